package dev.tokenbudget.scg;

import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.server.reactive.ServerHttpRequest;
import reactor.core.publisher.Mono;

import java.util.Optional;

/**
 * Reads a request body into memory with a bound: a {@code content-length} over it is refused
 * before reading, and a body that grows over it while read (chunked uploads) stops the read.
 * Empty result: too large.
 */
final class RequestBody {

    private static final byte[] NONE = new byte[0];

    private RequestBody() {
    }

    static Mono<Optional<byte[]>> read(ServerHttpRequest request, long maxBytes) {
        if (request.getHeaders().getContentLength() > maxBytes) {
            return Mono.just(Optional.empty());
        }
        int bound = (int) Math.min(Integer.MAX_VALUE - 8, maxBytes);
        return DataBufferUtils.join(request.getBody(), bound)
                .map(buf -> {
                    try {
                        byte[] bytes = new byte[buf.readableByteCount()];
                        buf.read(bytes);
                        return Optional.of(bytes);
                    } finally {
                        DataBufferUtils.release(buf);
                    }
                })
                .defaultIfEmpty(Optional.of(NONE))
                .onErrorResume(DataBufferLimitException.class, e -> Mono.just(Optional.empty()));
    }
}
