package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.BudgetGateway;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestBody;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;

/**
 * Benchmark (not a test): what the processor adds to each HTTP stream, as Envoy sees it. A load
 * client behaves as Envoy's filter (one gRPC stream per HTTP stream, each message waiting for its
 * answer) and measures per stream the sum of its waits: request headers, the BUFFERED body,
 * response headers, every response chunk. Run against the real processor (in-memory engine, and
 * on Redis when given a URI) and against a null processor that answers CONTINUE without any work,
 * over the same loopback gRPC, so that the difference is tokenbudget's own cost. Each server runs
 * in a JVM of its own ({@link ExtProcBenchServer}, started afresh for every run), this JVM is only
 * the load client, and the server process's CPU time is read from the operating system, so the
 * client's work is charged to neither processor. Run with bench/envoy-extproc.sh.
 */
public final class ExtProcBenchmark {

    /**
     * The example's filter, parsed once: parsing envoy.yaml per stream (YAML, then protobuf JSON)
     * cost the load client more CPU than the processor spends, and the client shares the cores.
     */
    private static final EnvoyRules RULES = EnvoyRules.untimed();
    /** Messages the server sent on the measured streams (answers, timer overrides included). */
    private static final LongAdder ANSWERS = new LongAdder();

    /**
     * One measured run; {@code serverCpuNanos}: the server process's CPU time during it (all its
     * threads, GC and JIT included), {@code clientCpuNanos} this JVM's.
     */
    private record Result(long[] streamNanos, long[] messageNanos, double seconds, long serverCpuNanos,
                          long clientCpuNanos, long contextSwitches, Map<String, Long> serverTicks,
                          int warmUpStreams, long answers) {
    }

    /** A server to measure: the null processor, or tokenbudget on a store. */
    private record Variant(String label, String processor) {
    }

    public static void main(String[] args) throws Exception {
        int streams = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int[] levels = args.length > 2 ? Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 8, 32, 64};
        // the server's callback threads, the same for every processor; 0: a cached pool
        int handlerThreads = args.length > 3 && !args[3].equals("-") ? Integer.parseInt(args[3])
                : ExtProcServer.DEFAULT_HANDLER_THREADS;
        String redisUri = args.length > 4 ? args[4] : null;
        List<Variant> variants = new ArrayList<>(List.of(new Variant("null (gRPC only)", "null"),
                new Variant("tokenbudget", "memory")));
        if (redisUri != null) {
            variants.add(new Variant("tokenbudget redis", "redis"));
        }
        List<ExtProcStreamCost.Shape> shapes = ExtProcStreamCost.shapes();
        System.out.printf(Locale.ROOT, "ext_proc benchmark: %d streams per run, %d cores, %s, server handler "
                + "threads %s%n", streams, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                handlerThreads == 0 ? "a cached pool" : handlerThreads);
        direct(streams);
        System.out.println();
        System.out.printf(Locale.ROOT, "Over loopback gRPC (the server in a JVM of its own, this JVM the load "
                + "client), median of %d interleaved rounds:%n", rounds);
        System.out.println();
        System.out.println("| processor | concurrency | streams/s | per-stream p50 µs | p99 µs | p99.9 µs "
                + "| per-message p50 µs | p99 µs | server CPU µs/stream | client CPU µs/stream "
                + "| server context switches/stream |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        StringBuilder perRound = new StringBuilder();
        StringBuilder byThread = new StringBuilder();
        for (int c : levels) {
            // interleaved, the order turned each round (null, tb, redis; redis, tb, null; ...), so
            // that the machine's drift favours none; the round with the median rate is printed
            List<List<Result>> results = new ArrayList<>();
            variants.forEach(v -> results.add(new ArrayList<>()));
            for (int round = 0; round < rounds; round++) {
                for (int k = 0; k < variants.size(); k++) {
                    int i = round % 2 == 0 ? k : variants.size() - 1 - k;
                    results.get(i).add(run(variants.get(i).processor(), redisUri, c, streams, shapes,
                            handlerThreads));
                }
            }
            for (int i = 0; i < variants.size(); i++) {
                Result m = median(results.get(i));
                row(variants.get(i).label(), c, m);
                byThread.append(String.format(Locale.ROOT, "%s at %d:", variants.get(i).label(), c));
                // a tick is 10 ms of a thread's CPU
                m.serverTicks.forEach((k, v) -> byThread.append(String.format(Locale.ROOT, " %s %.0f,", k,
                        v * 1e4 / m.streamNanos.length)));
                byThread.setLength(byThread.length() - 1);
                byThread.append(System.lineSeparator());
            }
            for (int i = 0; i < variants.size(); i++) {
                // every round's: CPU per stream is the figure that a busy machine moves least
                perRound.append(String.format(Locale.ROOT, "%s at %d: %s µs (after %s warm-up streams; %s "
                                + "messages from the server per stream)%n",
                        variants.get(i).label(), c, results.get(i).stream().map(r -> String.format(Locale.ROOT,
                                "%.0f", r.serverCpuNanos / 1e3 / r.streamNanos.length)).toList(),
                        results.get(i).stream().map(r -> Integer.toString(r.warmUpStreams)).toList(),
                        results.get(i).stream().map(r -> String.format(Locale.ROOT, "%.2f",
                                (double) r.answers / r.streamNanos.length)).toList()));
            }
        }
        System.out.println();
        System.out.println("Server CPU per stream, every round in run order:");
        System.out.print(perRound);
        System.out.println();
        System.out.println("Server CPU µs per stream by thread kind (the median round, /proc ticks of 10 ms):");
        System.out.print(byThread);
    }

    private static Result median(List<Result> rounds) {
        List<Result> sorted = new ArrayList<>(rounds);
        sorted.sort(java.util.Comparator.comparingDouble(r -> r.streamNanos.length / r.seconds));
        return sorted.get(sorted.size() / 2);
    }

    private static void row(String processor, int concurrency, Result r) {
        long[] s = r.streamNanos;
        long[] m = r.messageNanos;
        System.out.printf(Locale.ROOT, "| %s | %d | %,.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f |%n",
                processor, concurrency, s.length / r.seconds, pct(s, 50) / 1e3,
                pct(s, 99) / 1e3, pct(s, 99.9) / 1e3, pct(m, 50) / 1e3, pct(m, 99) / 1e3,
                r.serverCpuNanos / 1e3 / s.length, r.clientCpuNanos / 1e3 / s.length,
                (double) r.contextSwitches / s.length);
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

    private static Result run(String processor, String redisUri, int concurrency, int streams,
                              List<ExtProcStreamCost.Shape> shapes, int handlerThreads) throws Exception {
        BenchServerProcess server = BenchServerProcess.start(processor, handlerThreads, redisUri);
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        try {
            int warmUp = warmUp(ch, shapes, streams, concurrency, server);
            long t0 = System.nanoTime();
            long serverCpu0 = server.cpuNanos();
            long clientCpu0 = processCpuNanos();
            long switches0 = server.contextSwitches();
            Map<String, Long> ticks0 = server.ticksByThreadKind();
            ANSWERS.reset();
            Result warm = drive(ch, shapes, streams, concurrency);
            Map<String, Long> ticks = new TreeMap<>(server.ticksByThreadKind());
            ticks0.forEach((k, v) -> ticks.merge(k, -v, Long::sum));
            return new Result(warm.streamNanos, warm.messageNanos, (System.nanoTime() - t0) / 1e9,
                    server.cpuNanos() - serverCpu0, processCpuNanos() - clientCpu0,
                    server.contextSwitches() - switches0, ticks, warmUp, ANSWERS.sum());
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.close();
        }
    }

    /**
     * Warms the fresh server JVM up (JIT, connection, pools): max(10,000, streams/2) streams, then
     * batches of 2,000 until the JIT threads take under a tenth of the server's CPU in a batch, at
     * most 20,000 more. After 4,000 streams they still took half of it on the busy 2-core machine.
     */
    private static int warmUp(ManagedChannel ch, List<ExtProcStreamCost.Shape> shapes, int streams, int concurrency,
                              BenchServerProcess server) throws Exception {
        int first = Math.max(10_000, streams / 2);
        drive(ch, shapes, first, concurrency);
        for (int extra = 0; extra < 20_000; extra += 2_000) {
            Map<String, Long> before = server.ticksByThreadKind();
            drive(ch, shapes, 2_000, concurrency);
            Map<String, Long> after = server.ticksByThreadKind();
            long all = 0;
            for (Map.Entry<String, Long> e : after.entrySet()) {
                all += e.getValue() - before.getOrDefault(e.getKey(), 0L);
            }
            long jit = after.getOrDefault("JIT", 0L) - before.getOrDefault("JIT", 0L);
            if (jit * 10 < all) {
                return first + extra + 2_000;
            }
        }
        return first + 20_000;
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
        return new Result(streamNanos, messageNanos, (System.nanoTime() - t0) / 1e9, 0, 0, 0, Map.of(), 0, 0);
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
            ANSWERS.add(e.arrivals());
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

    private static double pct(long[] values, double p) {
        long[] v = values.clone();
        Arrays.sort(v);
        int i = (int) Math.min(v.length - 1, Math.ceil(p / 100.0 * v.length) - 1);
        return v[Math.max(0, i)];
    }
}
