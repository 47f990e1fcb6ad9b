package dev.tokenbudget.scg;

import io.netty.channel.EventLoop;
import org.reactivestreams.Publisher;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import reactor.core.Fuseable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A streamed response's chunks moved onto the client connection's event loop before the writer
 * takes them. Reactor Netty writes a flushed stream ({@code sendGroups}) as each chunk
 * {@code concatWith} a flush, and reactor-core's {@code FluxConcatArray} can lose a request when
 * two threads request one of those at once: the thread that delivers the chunk (the upstream
 * connection's event loop, which Spring Cloud Gateway's connection pool need not colocate) and the
 * client connection's event loop asking for more after a write. The lost request leaves the flush
 * unrequested and the stream stopped with the rest of the upstream's bytes read and held (found in
 * a stalled gateway's heap; BENCHMARKS.md, "A stream that never finished"). Delivered on the
 * client's loop, every request comes from that one thread.
 */
final class WriteLoop {

    /** Chunks taken ahead from the upstream, as the writer's own prefetch of flushed groups. */
    static final int PREFETCH = 32;

    /** One scheduler per event loop: a gateway has a few loops and many responses. */
    private static final Map<EventLoop, Scheduler> SCHEDULERS = new ConcurrentHashMap<>();

    private WriteLoop() {
    }

    /** The event loop of the client connection behind {@code response}; null when it is not Reactor Netty's. */
    static Scheduler of(ServerHttpResponse response) {
        Object nativeResponse;
        try {
            nativeResponse = ServerHttpResponseDecorator.getNativeResponse(response);
        } catch (IllegalArgumentException notNetty) {
            return null;
        }
        if (nativeResponse instanceof Connection c) {
            return SCHEDULERS.computeIfAbsent(c.channel().eventLoop(), Schedulers::fromExecutor);
        }
        return null;
    }

    /**
     * {@code chunks} delivered on {@code loop}, in order; a chunk left in the queue by a cancel or an
     * error has its buffers released, since nobody will write them.
     */
    static <P extends Publisher<? extends DataBuffer>> Flux<P> onto(Flux<P> chunks, Scheduler loop) {
        return chunks.publishOn(loop, PREFETCH).doOnDiscard(Publisher.class, WriteLoop::release);
    }

    private static void release(Publisher<?> chunk) {
        if (chunk instanceof Fuseable.ScalarCallable<?> scalar) {
            Object only;
            try {
                only = scalar.call();
            } catch (Exception e) {
                return; // an error chunk holds no buffer
            }
            DataBufferUtils.release(only instanceof DataBuffer b ? b : null);
            return;
        }
        Flux.from(chunk).subscribe(b -> DataBufferUtils.release(b instanceof DataBuffer d ? d : null), e -> { });
    }
}
