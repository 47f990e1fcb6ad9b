package dev.tokenbudget.scg;

import dev.tokenbudget.gateway.ResponseMeter;
import io.netty.buffer.ByteBuf;
import org.reactivestreams.Publisher;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import reactor.core.Fuseable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The client's response, decorated so that every byte the upstream sends is shown to the
 * {@link ResponseMeter} on its way through — read in place, never copied into a buffer of the
 * whole body, never changed, never delayed. It covers {@code writeWith} (JSON) and
 * {@code writeAndFlushWith} (Server-Sent Events: Spring Cloud Gateway's write filter flushes
 * each upstream chunk; written here as one flux, see there), and settles once:
 * {@code complete()} when the write finished, {@code abort()} when it failed or the client
 * cancelled, and {@link #finishIfOpen()} for an exchange that ended without the upstream
 * response ever reaching this decorator.
 *
 * <p>Per chunk it does as little as it can, since a stream has one chunk per event: a flushed
 * chunk that is a single buffer known at assembly (Spring Cloud Gateway's write filter wraps each
 * upstream buffer in {@code Flux.just}) is metered as the writer receives the chunk, without an
 * operator of its own; and a Netty buffer is read through its array, or copied through one array
 * per thread when off-heap, without {@link java.nio.ByteBuffer} views or an iterator.
 */
final class MeteredResponse extends ServerHttpResponseDecorator {

    private final ResponseMeter meter;
    private final Map<String, String> clientHeaders;
    private final EngineCalls calls;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final Consumer<DataBuffer> meterEach = this::meter;

    /**
     * Upstream chunks taken ahead of the writer, as many as Reactor Netty's {@code sendGroups} took:
     * the upstream connection is asked in batches, not once per event.
     */
    private static final int PREFETCH = 32;

    /** How an off-heap Netty buffer gives up its bytes, read from an index without moving its own. */
    private static final ResponseMeter.ChunkCopier<ByteBuf> NETTY = ByteBuf::getBytes;

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
        return settling(super.writeWith(Flux.<DataBuffer>from(body).doOnNext(meterEach)));
    }

    /**
     * A streamed response (Server-Sent Events), its upstream chunks flattened into one flux for
     * {@code writeWith}, not passed on to {@code writeAndFlushWith}. Reactor Netty writes flushed
     * groups through {@code sendGroups}, whose per-chunk {@code concatWith} (reactor-core's
     * {@code FluxConcatArray}) can lose a request that arrives from the client connection's event
     * loop while the upstream's loop subscribes the next chunk; the stream then stalls for good
     * (BENCHMARKS.md, "A stream that never finished"). {@code writeWith} sends through the same
     * writer, which flushes whenever it has written all it holds, so each event still reaches the
     * client as it arrives. Chunks still queued when the client goes away are released.
     */
    @Override
    public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
        begin();
        Flux<DataBuffer> chunks = Flux.from(body)
                .map(this::meterChunk)
                .<DataBuffer>concatMap(chunk -> chunk, PREFETCH)
                .doOnDiscard(Object.class, MeteredResponse::releaseDiscarded);
        return settling(super.writeWith(chunks));
    }

    /**
     * Releases what the flattening leaves behind on a cancel: queued chunks that hold their buffer
     * ({@code Flux.just}) and single buffers. Reactor Netty's writer releases only Netty buffers,
     * and Spring's discards none of a flux's, so without this each queued chunk would leak.
     */
    private static void releaseDiscarded(Object discarded) {
        if (discarded instanceof DataBuffer buffer) {
            DataBufferUtils.release(buffer);
        } else if (discarded instanceof Fuseable.ScalarCallable<?> scalar) {
            try {
                if (scalar.call() instanceof DataBuffer buffer) {
                    DataBufferUtils.release(buffer);
                }
            } catch (Exception e) {
                // an error chunk holds no buffer
            }
        }
    }

    /**
     * A flushed chunk: one buffer held by the chunk itself ({@code Flux.just}, {@code Mono.just}) is
     * metered now, as the writer receives it, and the chunk passes on as it is; any other chunk is
     * metered buffer by buffer as the writer reads it.
     */
    private Publisher<? extends DataBuffer> meterChunk(Publisher<? extends DataBuffer> chunk) {
        if (chunk instanceof Fuseable.ScalarCallable<?> scalar) {
            Object only;
            try {
                only = scalar.call();
            } catch (Exception e) {
                return chunk; // an error chunk: the writer gets its error as before
            }
            if (only instanceof DataBuffer buffer) {
                meter(buffer);
            }
            return chunk;
        }
        return Flux.<DataBuffer>from(chunk).doOnNext(meterEach);
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
        if (buffer instanceof NettyDataBuffer netty) {
            meter(netty.getNativeBuffer());
            return;
        }
        try (DataBuffer.ByteBufferIterator it = buffer.readableByteBuffers()) {
            while (it.hasNext()) {
                meter.onBytes(it.next());
            }
        }
    }

    /** The readable bytes of a Netty buffer, whose indexes stay where they are. */
    private void meter(ByteBuf b) {
        int at = b.readerIndex();
        int n = b.readableBytes();
        if (b.hasArray()) {
            meter.onBytes(b.array(), b.arrayOffset() + at, n);
        } else {
            meter.onBytes(b, at, n, NETTY);
        }
    }

    private void finish(boolean completed) {
        if (finished.compareAndSet(false, true)) {
            calls.fireAndForget(completed ? meter::complete : meter::abort);
        }
    }
}
