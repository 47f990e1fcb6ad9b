package dev.tokenbudget.envoy;

import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.gateway.BudgetGateway;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestBody;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;

/**
 * Benchmark (not a test): what the processor adds to each HTTP stream, as Envoy sees it. A load
 * client behaves as Envoy's filter (one gRPC stream per HTTP stream, each message waiting for its
 * answer) and measures per stream the sum of its waits: request headers, the BUFFERED body,
 * response headers, every response chunk. Run against the real processor (in-memory engine) and
 * against a null processor that answers CONTINUE without any work, over the same loopback gRPC,
 * so that the difference is tokenbudget's own cost. Run with bench/envoy-extproc.sh.
 */
public final class ExtProcBenchmark {

    /**
     * The example's filter, parsed once: parsing envoy.yaml per stream (YAML, then protobuf JSON)
     * cost the load client more CPU than the processor spends, and the client shares the cores.
     */
    private static final EnvoyRules RULES = EnvoyRules.untimed();

    /** One measured run; {@code cpuNanos}: the whole JVM's CPU time (client and server) during it. */
    private record Result(long[] streamNanos, long[] messageNanos, double seconds, long cpuNanos,
                          long contextSwitches) {
    }

    public static void main(String[] args) throws Exception {
        int streams = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int[] levels = args.length > 2 ? Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 8, 32, 64};
        // the server's callback threads, the same for both processors; 0: grpc-java's cached pool
        int handlerThreads = args.length > 3 ? Integer.parseInt(args[3]) : ExtProcServer.DEFAULT_HANDLER_THREADS;
        List<ExtProcStreamCost.Shape> shapes = ExtProcStreamCost.shapes();
        System.out.printf(Locale.ROOT, "ext_proc benchmark: %d streams per run, %d cores, %s, server handler "
                + "threads %s%n", streams, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                handlerThreads == 0 ? "grpc-java's cached pool" : handlerThreads);
        direct(streams);
        System.out.println();
        System.out.printf(Locale.ROOT, "Over loopback gRPC (client and server in this JVM), median of %d interleaved "
                + "rounds:%n", rounds);
        System.out.println();
        System.out.println("| processor | concurrency | streams/s | per-stream p50 µs | p99 µs | p99.9 µs "
                + "| per-message p50 µs | p99 µs | JVM CPU µs/stream | context switches/stream |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (int c : levels) {
            // interleaved, the order turned each round (null, tb, tb, null, ...), so that warm-up
            // and the machine's drift favour neither; the round with the median rate is printed
            List<Result> nulls = new ArrayList<>();
            List<Result> reals = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                boolean realFirst = round % 2 == 1;
                (realFirst ? reals : nulls).add(run(realFirst, c, streams, shapes, handlerThreads));
                (realFirst ? nulls : reals).add(run(!realFirst, c, streams, shapes, handlerThreads));
            }
            row("null (gRPC only)", c, median(nulls));
            row("tokenbudget", c, median(reals));
        }
    }

    private static Result median(List<Result> rounds) {
        List<Result> sorted = new ArrayList<>(rounds);
        sorted.sort(java.util.Comparator.comparingDouble(r -> r.streamNanos.length / r.seconds));
        return sorted.get(sorted.size() / 2);
    }

    private static void row(String processor, int concurrency, Result r) {
        long[] s = r.streamNanos;
        long[] m = r.messageNanos;
        System.out.printf(Locale.ROOT, "| %s | %d | %,.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f |%n",
                processor, concurrency, s.length / r.seconds, pct(s, 50) / 1e3,
                pct(s, 99) / 1e3, pct(s, 99.9) / 1e3, pct(m, 50) / 1e3, pct(m, 99) / 1e3,
                r.cpuNanos / 1e3 / s.length, (double) r.contextSwitches / s.length);
    }

    /**
     * The processor's own work per stream, without gRPC ({@link ExtProcStreamCost}): the 11 messages
     * handed straight to an {@link ExtProcStream}, one thread, answers dropped. This is tokenbudget's
     * cost as such.
     */
    private static void direct(int streams) {
        BudgetGateway gateway = ExtProcStreamCost.gateway(ExtProcStreamCost.engine());
        List<List<ProcessingRequest>> sequences = ExtProcStreamCost.sequences(ExtProcStreamCost.shapes());
        for (int w = 0; w < 5; w++) {
            // warms up: after one short round the JIT had not settled (a median of 82-85 µs where a warm
            // stream takes 16 µs of the thread's CPU)
            ExtProcStreamCost.run(gateway, sequences, Math.max(streams, 20_000));
        }
        ExtProcStreamCost.Round r = ExtProcStreamCost.run(gateway, sequences, streams);
        System.out.println("In-process, no gRPC (one thread; the processor's own work per HTTP stream):");
        System.out.println();
        System.out.println("| streams | per-stream p50 µs | p90 µs | p99 µs | p99.9 µs | bytes allocated | thread CPU µs |");
        System.out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        System.out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %.1f | %.1f | %.0f | %.1f |%n", streams, r.micros(50),
                r.micros(90), r.micros(99), r.micros(99.9), r.bytes(), r.cpuMicros());
    }

    private static Result run(boolean real, int concurrency, int streams, List<ExtProcStreamCost.Shape> shapes,
                              int handlerThreads) throws Exception {
        BudgetEngine engine = ExtProcStreamCost.engine();
        ExecutorService callbacks = ExtProcServer.callbackPool(handlerThreads);
        BindableService service = real ? new ExtProcService(ExtProcStreamCost.gateway(engine),
                new MessageTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(5)), callbacks)
                : new NullProcessor();
        AtomicInteger openDummy = new AtomicInteger();
        ExtProcServer server = new ExtProcServer(new InetSocketAddress("127.0.0.1", 0), service, openDummy::get,
                32 << 20, callbacks, engine).start();
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        try {
            drive(ch, shapes, Math.max(2_000, streams / 5), concurrency); // warm-up: JIT, connection, pools
            long t0 = System.nanoTime();
            long cpu0 = processCpuNanos();
            java.util.Map<String, Long> switches0 = contextSwitches();
            Result warm = drive(ch, shapes, streams, concurrency);
            return new Result(warm.streamNanos, warm.messageNanos, (System.nanoTime() - t0) / 1e9,
                    processCpuNanos() - cpu0, switchesSince(switches0));
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.drain(Duration.ofSeconds(5));
        }
    }

    private static Result drive(ManagedChannel ch, List<ExtProcStreamCost.Shape> shapes, int streams, int concurrency)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        AtomicInteger next = new AtomicInteger();
        int messagesPerStream = 3 + shapes.get(0).chunks().size();
        long[] streamNanos = new long[streams];
        long[] messageNanos = new long[streams * messagesPerStream];
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
            done.add(pool.submit(() -> {
                start.await();
                for (int i = next.getAndIncrement(); i < streams; i = next.getAndIncrement()) {
                    streamNanos[i] = oneStream(ch, shapes.get(i % shapes.size()), messageNanos,
                            i * messagesPerStream);
                }
                return null;
            }));
        }
        long t0 = System.nanoTime();
        start.countDown();
        for (Future<?> f : done) {
            f.get(30, TimeUnit.MINUTES);
        }
        pool.shutdown();
        return new Result(streamNanos, messageNanos, (System.nanoTime() - t0) / 1e9, 0, 0);
    }

    /** One HTTP stream as Envoy drives it; returns the sum of the waits for the processor's answers. */
    private static long oneStream(ManagedChannel ch, ExtProcStreamCost.Shape s, long[] messageNanos, int at) {
        try (EnvoyStream e = new EnvoyStream(ch, RULES.filter())) {
            long total = 0;
            int k = at;
            long t = timed(e, requestHeaders(post(s.path(), s.request().length, s.auth()), false, e.envoy().announced()));
            messageNanos[k++] = t;
            total += t;
            t = timed(e, requestBody(s.request(), true));
            messageNanos[k++] = t;
            total += t;
            t = timed(e, responseHeaders(200, s.contentType(), false));
            messageNanos[k++] = t;
            total += t;
            for (int i = 0; i < s.chunks().size(); i++) {
                t = timed(e, responseBody(s.chunks().get(i), i == s.chunks().size() - 1));
                messageNanos[k++] = t;
                total += t;
            }
            e.awaitClosed();
            return total;
        }
    }

    private static long timed(EnvoyStream e, ProcessingRequest r) {
        long t0 = System.nanoTime();
        e.exchange(r);
        return System.nanoTime() - t0;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /**
     * Context switches (voluntary and not) per live thread, from /proc/self/task/N/status, by
     * thread id; empty where there is no /proc. A thread's count is charged from its start.
     */
    private static java.util.Map<String, Long> contextSwitches() {
        java.util.Map<String, Long> byTid = new java.util.HashMap<>();
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return byTid;
        }
        for (java.io.File t : tasks) {
            try {
                long sum = 0;
                for (String line : java.nio.file.Files.readAllLines(t.toPath().resolve("status"))) {
                    if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                        sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    }
                }
                byTid.put(t.getName(), sum);
            } catch (java.io.IOException | RuntimeException e) {
                // the thread ended while being read
            }
        }
        return byTid;
    }

    /** The JVM's context switches since {@code before}, over the threads alive now. */
    private static long switchesSince(java.util.Map<String, Long> before) {
        long sum = 0;
        for (java.util.Map.Entry<String, Long> e : contextSwitches().entrySet()) {
            sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
        }
        return sum;
    }

    private static double pct(long[] values, double p) {
        long[] v = values.clone();
        Arrays.sort(v);
        int i = (int) Math.min(v.length - 1, Math.ceil(p / 100.0 * v.length) - 1);
        return v[Math.max(0, i)];
    }

    /**
     * Answers every message with the empty answer of its kind (asking for the response body, as
     * the real processor does) and closes after the response: gRPC cost only.
     */
    private static final class NullProcessor extends ExternalProcessorGrpc.ExternalProcessorImplBase {
        @Override
        public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(ProcessingRequest r) {
                    ProcessingResponse.Builder a = ProcessingResponse.newBuilder();
                    switch (r.getRequestCase()) {
                        case REQUEST_HEADERS -> a.setRequestHeaders(HeadersResponse.getDefaultInstance());
                        case REQUEST_BODY -> a.setRequestBody(BodyResponse.getDefaultInstance());
                        // asks for the response body as the real processor does (the example's
                        // response_body_mode is NONE), so both do the same protocol work
                        case RESPONSE_HEADERS -> a.setResponseHeaders(HeadersResponse.getDefaultInstance())
                                .setModeOverride(ProcessingModes.METERED_RESPONSE);
                        default -> a.setResponseBody(BodyResponse.getDefaultInstance());
                    }
                    out.onNext(a.build());
                    if (r.hasResponseBody() && r.getResponseBody().getEndOfStream()) {
                        out.onCompleted();
                    }
                }

                @Override
                public void onError(Throwable t) {
                    // stream gone
                }

                @Override
                public void onCompleted() {
                    // Envoy half-closed
                }
            };
        }
    }
}
