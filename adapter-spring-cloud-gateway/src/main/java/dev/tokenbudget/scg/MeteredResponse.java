package dev.tokenbudget.scg;

import dev.tokenbudget.gateway.ResponseMeter;
import org.reactivestreams.Publisher;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The client's response, decorated so that every byte the upstream sends is shown to the
 * {@link ResponseMeter} on its way through — read in place, never copied into a buffer of the
 * whole body, never changed, never delayed. It covers {@code writeWith} (JSON) and
 * {@code writeAndFlushWith} (Server-Sent Events: Spring Cloud Gateway's write filter flushes
 * each upstream chunk), and settles once: {@code complete()} when the write finished,
 * {@code abort()} when it failed or the client cancelled, and {@link #finishIfOpen()} for an
 * exchange that ended without the upstream response ever reaching this decorator.
 */
final class MeteredResponse extends ServerHttpResponseDecorator {

    private final ResponseMeter meter;
    private final Map<String, String> clientHeaders;
    private final EngineCalls calls;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean finished = new AtomicBoolean();

    MeteredResponse(ServerHttpResponse delegate, ResponseMeter meter, Map<String, String> clientHeaders,
                    EngineCalls calls) {
        super(delegate);
        this.meter = meter;
        this.clientHeaders = clientHeaders;
        this.calls = calls;
    }

    @Override
    public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
        begin();
        return settling(super.writeWith(Flux.<DataBuffer>from(body).doOnNext(this::meter)));
    }

    @Override
    public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
        begin();
        Flux<Flux<DataBuffer>> metered = Flux.from(body).map(chunk -> Flux.<DataBuffer>from(chunk)
                .doOnNext(this::meter));
        return settling(super.writeAndFlushWith(metered));
    }

    @Override
    public Mono<Void> setComplete() {
        begin();
        return settling(super.setComplete());
    }

    /** Settles as aborted unless the response was already settled (no upstream response, early cancel). */
    void finishIfOpen() {
        finish(false);
    }

    private Mono<Void> settling(Mono<Void> write) {
        return write.doOnSuccess(v -> finish(true)).doOnError(e -> finish(false)).doOnCancel(() -> finish(false));
    }

    /** Once, when the upstream's status and headers are in place and the body starts. */
    private void begin() {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        HttpHeaders headers = getDelegate().getHeaders();
        if (!getDelegate().isCommitted()) {
            clientHeaders.forEach(headers::set);
        }
        HttpStatusCode status = getStatusCode();
        meter.onResponseHeaders(status == null ? 200 : status.value(), headers.getFirst(HttpHeaders.CONTENT_TYPE),
                headers::getFirst);
    }

    private void meter(DataBuffer buffer) {
        try (DataBuffer.ByteBufferIterator it = buffer.readableByteBuffers()) {
            while (it.hasNext()) {
                meter.onBytes(it.next());
            }
        }
    }

    private void finish(boolean completed) {
        if (finished.compareAndSet(false, true)) {
            calls.fireAndForget(completed ? meter::complete : meter::abort);
        }
    }
}
