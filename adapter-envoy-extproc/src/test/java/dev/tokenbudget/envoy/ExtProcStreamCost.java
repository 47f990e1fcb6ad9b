package dev.tokenbudget.envoy;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.EngineFixture;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.GatewayOptions;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.tokenbudget.envoy.EnvoyMessages.EXAMPLE_CONFIG;
import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestBody;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.split;

/**
 * Benchmark (not a test): the processor's own work per HTTP stream, without gRPC. The 11 messages
 * of a stream (request headers, the BUFFERED body, response headers, 8 response chunks) are handed
 * straight to an {@link ExtProcStream} on one thread, answers dropped, on an in-memory engine. It
 * prints, per stream, the bytes this thread allocated (exact, whatever the machine's load), the
 * thread's CPU time and the wall-clock median. Run by bench/envoy-extproc.sh and, on two builds
 * turn about, by bench/envoy-extproc-ab.sh.
 */
public final class ExtProcStreamCost {

    static final String KEY = "sk-tb-bench";

    /** One kind of stream: the client's request and the provider's answer in chunks. */
    record Shape(String path, Map<String, String> auth, byte[] request, String contentType, List<byte[]> chunks) {
    }

    private ExtProcStreamCost() {
    }

    /**
     * Usage: ExtProcStreamCost [streams [rounds [threads]]]; prints one line per measured round. Given
     * threads, that many threads each run {@code streams} streams at once on the one gateway (one
     * budget tree, as 32 Envoy streams would share it), and the line gives the whole JVM's CPU time
     * per stream (garbage collection and JIT included).
     */
    public static void main(String[] args) throws Exception {
        int streams = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        BudgetGateway gateway = gateway(engine());
        List<List<ProcessingRequest>> sequences = sequences(shapes());
        for (int w = 0; w < 5; w++) {
            // warm-up: the JIT, whose escape analysis settles only after a few rounds
            run(gateway, sequences, Math.max(streams, 20_000));
        }
        for (int r = 0; r < rounds; r++) {
            System.out.println(args.length < 3 ? run(gateway, sequences, streams).toString()
                    : concurrently(gateway, sequences, streams, threads));
        }
    }

    private static String concurrently(BudgetGateway gateway, List<List<ProcessingRequest>> sequences, int streams,
                                       int threads) throws Exception {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            long cpu0 = os.getProcessCpuTime();
            List<Future<Round>> rounds = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                rounds.add(pool.submit(() -> run(gateway, sequences, streams)));
            }
            for (Future<Round> f : rounds) {
                f.get(10, TimeUnit.MINUTES);
            }
            return String.format(Locale.ROOT, "in-process threads=%d streams=%d jvm-cpu-us/stream=%.1f", threads,
                    threads * streams, (os.getProcessCpuTime() - cpu0) / 1e3 / ((long) threads * streams));
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Per-stream figures of one round: bytes allocated and CPU time of the measuring thread, and each
     * stream's wall-clock time (sorted).
     */
    record Round(int streams, double bytes, double cpuMicros, long[] sortedNanos) {

        /** The {@code p}th percentile of the streams' wall-clock time, in µs. */
        double micros(double p) {
            int i = (int) Math.min(sortedNanos.length - 1, Math.ceil(p / 100.0 * sortedNanos.length) - 1);
            return sortedNanos[Math.max(0, i)] / 1e3;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "in-process streams=%d bytes/stream=%.0f cpu-us/stream=%.2f "
                    + "p50-us=%.1f p99-us=%.1f", streams, bytes, cpuMicros, micros(50), micros(99));
        }
    }

    static Round run(BudgetGateway gateway, List<List<ProcessingRequest>> sequences, int streams) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        long[] nanos = new long[streams];
        long bytes0 = mx.getThreadAllocatedBytes(tid);
        long cpu0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < streams; i++) {
            ExtProcStream st = new ExtProcStream(gateway, UpstreamSigning.none(), MessageTimeouts.ENVOY_DEFAULTS,
                    Runnable::run, new DirectObserver(answer -> { }), new StreamLog(() -> { }), () -> { });
            long t0 = System.nanoTime();
            for (ProcessingRequest r : sequences.get(i % sequences.size())) {
                st.onNext(r);
            }
            st.onCompleted();
            nanos[i] = System.nanoTime() - t0;
        }
        long cpu = mx.getCurrentThreadCpuTime() - cpu0;
        long bytes = mx.getThreadAllocatedBytes(tid) - bytes0;
        Arrays.sort(nanos);
        return new Round(streams, (double) bytes / streams, cpu / 1e3 / streams, nanos);
    }

    static BudgetGateway gateway(BudgetEngine engine) {
        return new BudgetGateway(engine, GatewayOptions.custom()
                .environment(Map.of("BENCH_OPENAI", "sk-o", "BENCH_ANTHROPIC", "sk-a")::get).build());
    }

    static BudgetEngine engine() {
        return engine("");
    }

    /** The benchmark's engine with {@code store}, a config's {@code store:} line (empty: in memory). */
    static BudgetEngine engine(String store) {
        return BudgetEngine.builder(ConfigLoader.parse(store + """
                providers:
                  openai: { api_key_env: BENCH_OPENAI }
                  anthropic: { api_key_env: BENCH_ANTHROPIC }
                budgets:
                  - id: org
                    windows: [{ period: month, limits: { total: 1000000M } }]
                keys:
                  - { name: bench, sha256: %s, budget: org }
                """.formatted(EngineFixture.sha(KEY)))).build();
    }

    /** An OpenAI chat stream (SSE with usage), an OpenAI JSON answer, an Anthropic messages stream. */
    static List<Shape> shapes() {
        int chunks = 8;
        return List.of(
                new Shape("/v1/chat/completions", EnvoySequences.bearer(KEY),
                        ExtProcFixture.payload("openai-chat-stream-request.json"), "text/event-stream",
                        split(ExtProcFixture.payload("openai-chat-stream.sse"), chunks)),
                new Shape("/v1/chat/completions", EnvoySequences.bearer(KEY),
                        ExtProcFixture.payload("openai-chat-request.json"), "application/json",
                        split(ExtProcFixture.payload("openai-chat-response.json"), chunks)),
                new Shape("/v1/messages", EnvoySequences.anthropicKey(KEY),
                        ExtProcFixture.payload("anthropic-messages-stream-request.json"), "text/event-stream",
                        split(ExtProcFixture.payload("anthropic-messages-stream.sse"), chunks)));
    }

    /** Each shape's messages as the example's filter sends them. */
    static List<List<ProcessingRequest>> sequences(List<Shape> shapes) {
        List<List<ProcessingRequest>> sequences = new ArrayList<>();
        for (Shape s : shapes) {
            List<ProcessingRequest> seq = new ArrayList<>();
            seq.add(requestHeaders(post(s.path, s.request.length, s.auth), false, EXAMPLE_CONFIG));
            seq.add(requestBody(s.request, true));
            seq.add(responseHeaders(200, s.contentType, false));
            for (int i = 0; i < s.chunks.size(); i++) {
                seq.add(responseBody(s.chunks.get(i), i == s.chunks.size() - 1));
            }
            sequences.add(seq);
        }
        return sequences;
    }
}
