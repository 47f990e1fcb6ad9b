package dev.tokenbudget.envoy;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * The gRPC server: Envoy's {@code ExternalProcessor} service and {@code grpc.health.v1.Health} on
 * one Netty port. {@link #drain} is what SIGTERM runs: health turns NOT_SERVING, new streams are
 * refused, open streams may finish within a bound, the rest are cancelled (their meters settle or
 * release what they reserved).
 */
public final class ExtProcServer implements AutoCloseable {

    /** The health service name Envoy's {@code grpc_health_check} asks for (the empty name works too). */
    public static final String HEALTH_SERVICE = ExternalProcessorGrpc.SERVICE_NAME;

    /**
     * Threads that run the processor's callbacks: twice the cores, at least 4. No callback waits
     * for the store (in memory the reservation is a lock on one budget tree; on Redis the stream
     * goes on when the store's answer comes, {@link ExtProcService}), so threads beyond the cores
     * only take turns; grpc-java's default, a cached pool, starts a thread per busy stream, and a
     * fixed pool saves context switches (BENCHMARKS.md, "Envoy ext_proc"). The margin over the
     * cores is for the calls that may wait: a cloud credential refresh.
     */
    public static final int DEFAULT_HANDLER_THREADS = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());

    private static final Logger LOG = LoggerFactory.getLogger(ExtProcServer.class);

    private final Server server;
    private final HealthStatusManager health = new HealthStatusManager();
    private final IntSupplier openStreams;
    private final AutoCloseable onClose;
    /** Runs the services' callbacks; null when grpc-java's own cached pool does. */
    private final ExecutorService handlers;

    /** As the full constructor with {@link #DEFAULT_HANDLER_THREADS}. */
    public ExtProcServer(InetSocketAddress address, BindableService processor, IntSupplier openStreams,
                         int maxMessageBytes, AutoCloseable onClose) {
        this(address, processor, openStreams, maxMessageBytes, DEFAULT_HANDLER_THREADS, onClose);
    }

    /**
     * As the full constructor with a fixed pool of {@code handlerThreads} threads, or for 0
     * grpc-java's default executor (a cached pool that grows with the busy streams).
     */
    public ExtProcServer(InetSocketAddress address, BindableService processor, IntSupplier openStreams,
                         int maxMessageBytes, int handlerThreads, AutoCloseable onClose) {
        this(address, processor, openStreams, maxMessageBytes, handlerThreads == 0 ? null
                : callbackPool(handlerThreads), onClose);
    }

    /**
     * @param address          where to listen (port 0 picks a free one)
     * @param processor        the ExternalProcessor service
     * @param openStreams      how many processor streams are open, for the drain log
     * @param maxMessageBytes  largest inbound message (a BUFFERED body arrives whole)
     * @param handlers         runs the callbacks ({@link #callbackPool}); shut down with the
     *                         server. Null for grpc-java's default
     * @param onClose          closed after the server stopped (the engine), or null
     */
    public ExtProcServer(InetSocketAddress address, BindableService processor, IntSupplier openStreams,
                         int maxMessageBytes, ExecutorService handlers, AutoCloseable onClose) {
        this.openStreams = Objects.requireNonNull(openStreams, "openStreams");
        this.onClose = onClose;
        this.handlers = handlers;
        NettyServerBuilder builder = NettyServerBuilder.forAddress(address);
        if (handlers != null) {
            builder.executor(handlers);
        }
        this.server = builder
                .addService(processor)
                .addService(health.getHealthService())
                .maxInboundMessageSize(maxMessageBytes)
                // Envoy keeps one HTTP/2 connection per worker open for hours; let it ping
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .build();
    }

    public ExtProcServer start() {
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on the gRPC port: " + e.getMessage(), e);
        }
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(HEALTH_SERVICE, ServingStatus.SERVING);
        LOG.atInfo().addKeyValue("event", "listening").addKeyValue("port", port()).log("ext_proc server started");
        return this;
    }

    /** The port actually bound. */
    public int port() {
        return server.getPort();
    }

    /** {@link #drain(Duration, Duration)} without a notice period. */
    public boolean drain(Duration timeout) {
        return drain(Duration.ZERO, timeout);
    }

    /**
     * Reports NOT_SERVING and keeps serving for {@code notice} (so that Envoy's health checks take
     * this processor out of the cluster before it refuses streams; an interrupt cuts it short),
     * then stops taking streams and waits up to {@code timeout} for the open ones to end, and
     * cancels what is left. Returns true when every stream ended on its own. Idempotent.
     */
    public boolean drain(Duration notice, Duration timeout) {
        if (server.isTerminated()) {
            return true;
        }
        health.enterTerminalState();
        LOG.atInfo().addKeyValue("event", "drain_start").addKeyValue("open_streams", openStreams.getAsInt())
                .addKeyValue("notice_ms", notice.toMillis()).addKeyValue("timeout_ms", timeout.toMillis())
                .log("draining");
        if (!notice.isZero()) {
            try {
                Thread.sleep(notice.toMillis());
            } catch (InterruptedException e) {
                LOG.atInfo().addKeyValue("event", "drain_notice_cut").log("notice period interrupted");
            }
        }
        server.shutdown();
        boolean clean;
        try {
            clean = server.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            clean = false;
        }
        int left = openStreams.getAsInt();
        if (!clean) {
            server.shutdownNow();
            try {
                server.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }

        }
        closeQuietly();
        LOG.atInfo().addKeyValue("event", "drain_end").addKeyValue("clean", clean).addKeyValue("cancelled_streams",
                clean ? 0 : left).log("drained");
        return clean;
    }

    /** Blocks until the server has terminated. */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() {
        drain(Duration.ZERO);
    }

    /**
     * The threads for the callbacks and the admissions' continuations: a fixed pool of
     * {@code threads}, or for 0 a cached pool that starts a thread per busy stream (what
     * grpc-java's default does).
     */
    public static ExecutorService callbackPool(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("handlerThreads must be >= 0, was " + threads);
        }
        return threads == 0 ? Executors.newCachedThreadPool(daemonThreads("tokenbudget-extproc-"))
                : Executors.newFixedThreadPool(threads, daemonThreads("tokenbudget-extproc-"));
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private void closeQuietly() {
        if (handlers != null) {
            // the server has terminated: no callback is queued any more; an admission still
            // completing elsewhere runs its answer on its own thread (ExtProcService)
            handlers.shutdown();
        }
        if (onClose == null) {
            return;
        }
        try {
            onClose.close();
        } catch (Exception e) {
            LOG.atWarn().addKeyValue("event", "close_failed").addKeyValue("error", e.toString()).log("close failed");
        }
    }
}
