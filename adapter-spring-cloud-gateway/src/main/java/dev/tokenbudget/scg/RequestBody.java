package dev.tokenbudget.scg;

import dev.tokenbudget.provider.BodyBytes;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBuffer;
import org.springframework.http.server.reactive.ServerHttpRequest;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A request body held as it arrived, with a bound: a {@code content-length} over it is refused
 * before reading, and a body that grows over it while read (chunked uploads) stops the read
 * (empty result: too large). The buffers are joined without copying (Netty composes them) and
 * kept: the engine reads them in place, and an unchanged body goes upstream as these same bytes,
 * each upstream subscription taking a reference of its own. The holder's own reference is let go
 * by {@link #release()} when the exchange ends; reads after that fail rather than touch freed memory.
 */
final class RequestBody {

    private static final RequestBody NONE = new RequestBody(null);

    private final DataBuffer buffer; // null: no body
    private boolean released;

    private RequestBody(DataBuffer buffer) {
        this.buffer = buffer;
    }

    static Mono<Optional<RequestBody>> read(ServerHttpRequest request, long maxBytes) {
        if (request.getHeaders().getContentLength() > maxBytes) {
            return Mono.just(Optional.empty());
        }
        int bound = (int) Math.min(Integer.MAX_VALUE - 8, maxBytes);
        return DataBufferUtils.join(request.getBody(), bound)
                .map(buf -> Optional.of(new RequestBody(buf)))
                .defaultIfEmpty(Optional.of(NONE))
                .onErrorResume(DataBufferLimitException.class, e -> Mono.just(Optional.empty()));
    }

    int length() {
        return buffer == null ? 0 : buffer.readableByteCount();
    }

    /** Lets {@code reader} see the body in place (it must not keep the view past its return). */
    synchronized <T> T read(Function<BodyBytes, T> reader) {
        if (buffer == null) {
            return reader.apply(BodyBytes.of((byte[]) null));
        }
        live();
        try (DataBuffer.ByteBufferIterator it = buffer.readableByteBuffers()) {
            List<ByteBuffer> views = new ArrayList<>(2);
            it.forEachRemaining(views::add);
            return reader.apply(BodyBytes.of(views));
        }
    }

    /** A copy of the body, for the rare caller that needs one array (a request signature). */
    byte[] toArray() {
        return read(BodyBytes::toArray);
    }

    /** The body for one upstream subscription: the same bytes, not copied where the buffer is Netty's. */
    Flux<DataBuffer> replay(DataBufferFactory factory) {
        if (buffer == null) {
            return Flux.empty();
        }
        return Flux.defer(() -> Flux.just(share(factory)));
    }

    private synchronized DataBuffer share(DataBufferFactory factory) {
        live();
        if (buffer instanceof NettyDataBuffer netty) {
            // shares the memory with a reference of its own: Netty lets go of it once written
            return netty.factory().wrap(netty.getNativeBuffer().retainedDuplicate());
        }
        return factory.wrap(toArray());
    }

    /** Lets go of the holder's reference; once per exchange, when it ends however it ends. */
    synchronized void release() {
        if (!released && buffer != null) {
            released = true;
            DataBufferUtils.release(buffer);
        }
    }

    private void live() {
        if (released) {
            throw new IllegalStateException("the request body was released: the exchange has ended");
        }
    }
}
