package dev.tokenbudget.bench.gateway;

import dev.tokenbudget.bench.Stats;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Gateway overhead (not a test): the quickstart's route through Spring Cloud Gateway in five
 * variants ({@link GatewayBenchApp}; (e) is (d) in token blocks, {@code store.redis.blocks}), each in its own JVM with the same heap, in front of one fake
 * provider ({@link FakeUpstreamMain}), all on loopback. JSON requests come from wrk (fixed
 * connections, bounded duration, a Lua script for the POST body); streamed ones from
 * {@link StreamLoad}; both closed loops, so they measure capacity. Beside each, the gateway
 * process's CPU time per request ({@link GatewayCpu}). Then, what a user feels: {@link OpenLoad}
 * sends JSON requests at fixed rates well below capacity (200 and 1,000 a second by default) and
 * the latency each variant adds over (a) at the same rate in the same round is the figure.
 * Variants take turns round after round, so that they share the machine's moods; figures are
 * medians over rounds and ratios to (a) are taken within each round.
 *
 * <pre>bench/gateway.sh [REDIS_URI] [ROUNDS] [SECONDS] [CONNECTIONS] [BASE_PORT] [PARTS] [RATES] [OPEN_SECONDS] [WARMUP_SECONDS]
 *   PARTS: a comma list of json, stream, open (default all three); RATES: open-loop rates per
 *   second (default 200,1000); OPEN_SECONDS: seconds per open-loop run (default SECONDS);
 *   WARMUP_SECONDS: closed-loop JSON per variant before round 1, and half as long streamed
 *   (default SECONDS, at least 5; on two cores the JIT needs 20 or more); then a round 0 of the
 *   closed-loop parts, run as a round is and not recorded</pre>
 */
public final class GatewayBench {

    static final String[] VARIANTS = {"none", "ratelimiter", "memory", "redis", "redis-blocks"};
    static final Map<String, String> LABELS = Map.of("none", "(a) no filter", "ratelimiter",
            "(b) RequestRateLimiter on RedisRateLimiter", "memory", "(c) TokenBudget, in-memory store", "redis",
            "(d) TokenBudget, Redis store", "redis-blocks", "(e) TokenBudget, Redis store in token blocks");
    static final String JSON_BODY = "{\"model\":\"gpt-4o\",\"max_tokens\":32,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the benchmark.\"}]}";
    private static final String WRK_LUA = """
            wrk.method = "POST"
            wrk.body = '%s'
            wrk.headers["Content-Type"] = "application/json"
            wrk.headers["Authorization"] = "Bearer sk-bench"
            """.formatted(JSON_BODY);

    private final List<Process> children = new ArrayList<>();
    /** Per variant, its gateway process (for its CPU time). */
    private final Map<String, Process> gateways = new LinkedHashMap<>();
    /** Per variant and measure, one value per round. */
    private final Map<String, Map<String, List<Double>>> results = new LinkedHashMap<>();

    public static void main(String[] args) throws Exception {
        String redis = args.length > 0 ? args[0] : "redis://127.0.0.1:6379";
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int connections = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        int basePort = args.length > 4 ? Integer.parseInt(args[4]) : 18180;
        List<String> parts = List.of((args.length > 5 ? args[5] : "json,stream,open").split(","));
        int[] rates = java.util.Arrays.stream((args.length > 6 ? args[6] : "200,1000").split(","))
                .mapToInt(Integer::parseInt).toArray();
        int openSeconds = args.length > 7 ? Integer.parseInt(args[7]) : seconds;
        int warmup = Math.max(5, args.length > 8 ? Integer.parseInt(args[8]) : seconds);
        GatewayBench b = new GatewayBench();
        Runtime.getRuntime().addShutdownHook(new Thread(b::stopAll));
        try {
            b.run(redis, rounds, seconds, connections, basePort, parts, rates, openSeconds, warmup);
        } finally {
            b.stopAll();
        }
    }

    private void run(String redis, int rounds, int seconds, int connections, int basePort, List<String> parts,
                     int[] rates, int openSeconds, int warmup) throws Exception {
        System.out.printf("gateway: %d rounds, %d s per run, %d connections (wrk -t2) / %d streams, open loop at %s/s "
                + "for %d s, parts %s, %d cores, load %s%n", rounds, seconds, connections, connections / 4,
                java.util.Arrays.toString(rates), openSeconds, parts, Runtime.getRuntime().availableProcessors(),
                Stats.load());
        int upstreamPort = basePort + 10;
        start("upstream", List.of(FakeUpstreamMain.class.getName(), Integer.toString(upstreamPort), "256", "4", "0"));
        Path redisConfig = redisConfig(redis, "");
        // (e): the same budgets in token blocks, under keys of their own
        Path blocksConfig = redisConfig(redis, "key_prefix: tbgwb, blocks: {max_requests: 64}");
        Path lua = Files.createTempFile("tokenbudget-bench", ".lua");
        lua.toFile().deleteOnExit();
        Files.writeString(lua, WRK_LUA);
        Map<String, String> urls = new LinkedHashMap<>();
        for (int i = 0; i < VARIANTS.length; i++) {
            String v = VARIANTS[i];
            int port = basePort + i;
            gateways.put(v, start(v, List.of("-Xms256m", "-Xmx256m", GatewayBenchApp.class.getName(),
                    "--spring.profiles.active=" + v, "--server.port=" + port,
                    "--bench.upstream=http://127.0.0.1:" + upstreamPort, "--bench.redis=" + redis,
                    "--bench.redis-config=file:" + redisConfig, "--bench.redis-blocks-config=file:" + blocksConfig)));
            urls.put(v, "http://127.0.0.1:" + port + "/v1/chat/completions");
        }
        for (Map.Entry<String, String> e : urls.entrySet()) {
            awaitReady(e.getKey(), e.getValue());
        }
        System.out.println("all variants answer; warming up");
        for (String v : VARIANTS) {
            // JIT: every variant sees both kinds of traffic before any is measured
            wrk(urls.get(v), lua, warmup, connections);
            StreamLoad.run(urls.get(v), connections / 4, warmup / 2);
        }
        // round 0 is one more warm-up, the closed-loop parts of a round exactly as measured, and is
        // not recorded: after the warm-up above alone, the filter variants still ran round 1 at about
        // half their later rate (session 9: JSON ratio to no filter 0.51, then 0.87 and 1.24)
        for (int r = 0; r <= rounds; r++) {
            if (parts.contains("json")) {
                for (String v : VARIANTS) {
                    long cpu = GatewayCpu.cpuNanos(gateways.get(v).pid());
                    double[] w = wrk(urls.get(v), lua, seconds, connections);
                    double cpuPer = GatewayCpu.microsPer(cpu, GatewayCpu.cpuNanos(gateways.get(v).pid()), w[3]);
                    record(v, "rps", w[0]);
                    record(v, "p50", w[1]);
                    record(v, "p99", w[2]);
                    record(v, "cpu", cpuPer);
                    System.out.printf("round %d json   %-12s %,9.0f req/s p50 %7.0f µs p99 %7.0f µs cpu %6.0f µs/req"
                            + " | load %s%n", r, v, w[0], w[1], w[2], cpuPer, Stats.load());
                }
                for (String v : VARIANTS) {
                    record(v, "rpsRatio", last(v, "rps") / last("none", "rps"));
                    record(v, "cpuRatio", last(v, "cpu") / last("none", "cpu"));
                }
            }
            if (parts.contains("stream")) {
                for (String v : VARIANTS) {
                    long cpu = GatewayCpu.cpuNanos(gateways.get(v).pid());
                    StreamLoad.Result s = StreamLoad.run(urls.get(v), connections / 4, seconds);
                    double cpuPer = GatewayCpu.microsPer(cpu, GatewayCpu.cpuNanos(gateways.get(v).pid()),
                            s.streamsPerSecond() * seconds);
                    record(v, "streams", s.streamsPerSecond());
                    record(v, "events", s.eventsPerSecond());
                    record(v, "ttfb50", s.ttfbP50Micros());
                    record(v, "ttfb99", s.ttfbP99Micros());
                    record(v, "streamCpu", cpuPer);
                    System.out.printf("round %d stream %-12s %,9.0f streams/s %,9.0f events/s TTFB p50 %7.0f µs p99 %7.0f µs"
                            + " cpu %6.0f µs/stream | load %s%n", r, v, s.streamsPerSecond(), s.eventsPerSecond(),
                            s.ttfbP50Micros(), s.ttfbP99Micros(), cpuPer, Stats.load());
                }
                for (String v : VARIANTS) {
                    record(v, "eventsRatio", last(v, "events") / last("none", "events"));
                    record(v, "streamCpuRatio", last(v, "streamCpu") / last("none", "streamCpu"));
                }
            }
            if (r == 0) {
                results.clear();
                System.out.println("round 0 was a warm-up: not recorded");
                continue;
            }
            if (parts.contains("open")) {
                for (int rate : rates) {
                    for (String v : VARIANTS) {
                        long cpu = GatewayCpu.cpuNanos(gateways.get(v).pid());
                        OpenLoad.Result o = OpenLoad.run(urls.get(v), JSON_BODY, rate, openSeconds);
                        double cpuPer = GatewayCpu.microsPer(cpu, GatewayCpu.cpuNanos(gateways.get(v).pid()), o.sent());
                        record(v, "open" + rate + "p50", o.p50Micros());
                        record(v, "open" + rate + "p99", o.p99Micros());
                        record(v, "open" + rate + "cpu", cpuPer);
                        System.out.printf("round %d open   %-12s %5d req/s p50 %7.0f µs p90 %7.0f µs p99 %7.0f µs max %7.0f µs"
                                + " (client late p99 %5.0f µs) cpu %6.0f µs/req | load %s%n", r, v, rate, o.p50Micros(),
                                o.p90Micros(), o.p99Micros(), o.maxMicros(), o.lateStartMicrosP99(), cpuPer, Stats.load());
                    }
                    for (String v : VARIANTS) {
                        record(v, "open" + rate + "added50", last(v, "open" + rate + "p50") - last("none", "open" + rate + "p50"));
                        record(v, "open" + rate + "added99", last(v, "open" + rate + "p99") - last("none", "open" + rate + "p99"));
                    }
                }
            }
        }
        report(connections, parts, rates);
    }

    private void report(int connections, List<String> parts, int[] rates) {
        if (parts.contains("json")) {
            System.out.println();
            System.out.println("| JSON, " + connections + " connections (median of rounds) | req/s | p50 µs | p99 µs | "
                    + "gateway CPU µs/request | req/s vs (a) | CPU vs (a) |");
            System.out.println("|---|---:|---:|---:|---:|---:|---:|");
            for (String v : VARIANTS) {
                System.out.printf("| %s | %,.0f | %.0f | %.0f | %.0f | %.3f | %.3f |%n", LABELS.get(v), med(v, "rps"),
                        med(v, "p50"), med(v, "p99"), med(v, "cpu"), med(v, "rpsRatio"), med(v, "cpuRatio"));
            }
        }
        if (parts.contains("stream")) {
            System.out.println();
            System.out.println("| streamed, " + connections / 4 + " streams of 64 events (median of rounds) | streams/s | "
                    + "events/s | TTFB p50 µs | TTFB p99 µs | gateway CPU µs/stream | events/s vs (a) | CPU vs (a) |");
            System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
            for (String v : VARIANTS) {
                System.out.printf("| %s | %,.0f | %,.0f | %.0f | %.0f | %.0f | %.3f | %.3f |%n", LABELS.get(v),
                        med(v, "streams"), med(v, "events"), med(v, "ttfb50"), med(v, "ttfb99"), med(v, "streamCpu"),
                        med(v, "eventsRatio"), med(v, "streamCpuRatio"));
            }
        }
        if (parts.contains("open")) {
            for (int rate : rates) {
                String k = "open" + rate;
                System.out.println();
                System.out.println("| JSON, open loop at " + rate + " req/s (median of rounds) | p50 µs | p99 µs | added p50 µs"
                        + " | added p99 µs | gateway CPU µs/request |");
                System.out.println("|---|---:|---:|---:|---:|---:|");
                for (String v : VARIANTS) {
                    System.out.printf("| %s | %.0f | %.0f | %.0f | %.0f | %.0f |%n", LABELS.get(v), med(v, k + "p50"),
                            med(v, k + "p99"), med(v, k + "added50"), med(v, k + "added99"), med(v, k + "cpu"));
                }
            }
        }
        if (parts.contains("json")) {
            for (String v : VARIANTS) {
                System.out.printf("FIGURE gateway.json.%s %,.0f/s p50=%.0fus p99=%.0fus cpu=%.0fus/req | ref (a) no filter "
                        + "%,.0f/s cpu=%.0fus/req | ratio %.3f cpu-ratio %.3f | load %s%n", v, med(v, "rps"),
                        med(v, "p50"), med(v, "p99"), med(v, "cpu"), med("none", "rps"), med("none", "cpu"),
                        med(v, "rpsRatio"), med(v, "cpuRatio"), Stats.load());
            }
        }
        if (parts.contains("stream")) {
            for (String v : VARIANTS) {
                System.out.printf("FIGURE gateway.stream.%s %,.0f events/s ttfb-p50=%.0fus ttfb-p99=%.0fus "
                        + "cpu=%.0fus/stream | ref (a) no filter %,.0f events/s cpu=%.0fus/stream | ratio %.3f cpu-ratio "
                        + "%.3f | load %s%n", v, med(v, "events"), med(v, "ttfb50"), med(v, "ttfb99"),
                        med(v, "streamCpu"), med("none", "events"), med("none", "streamCpu"), med(v, "eventsRatio"),
                        med(v, "streamCpuRatio"), Stats.load());
            }
        }
        if (parts.contains("open")) {
            for (int rate : rates) {
                String k = "open" + rate;
                for (String v : VARIANTS) {
                    if (v.equals("none")) {
                        continue;
                    }
                    System.out.printf("FIGURE gateway.open%d.%s added-p50=%.0fus added-p99=%.0fus (p50=%.0fus p99=%.0fus "
                            + "cpu=%.0fus/req) | ref (a) no filter at %d/s p50=%.0fus p99=%.0fus cpu=%.0fus/req | ratio "
                            + "p50 %.3f p99 %.3f | load %s%n", rate, v, med(v, k + "added50"), med(v, k + "added99"),
                            med(v, k + "p50"), med(v, k + "p99"), med(v, k + "cpu"), rate, med("none", k + "p50"),
                            med("none", k + "p99"), med("none", k + "cpu"), med(v, k + "p50") / med("none", k + "p50"),
                            med(v, k + "p99") / med("none", k + "p99"), Stats.load());
                }
            }
        }
    }

    /**
     * A Redis variant's engine config: {@code gateway/tokenbudget-redis.yaml} on {@code redis}, with
     * {@code settings} (when not empty) in place of its key prefix.
     */
    private static Path redisConfig(String redis, String settings) throws IOException {
        Path config = Files.createTempFile("tokenbudget-bench-redis", ".yaml");
        config.toFile().deleteOnExit();
        try (var in = GatewayBench.class.getResourceAsStream("/gateway/tokenbudget-redis.yaml")) {
            String yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("REDIS_URI", redis);
            Files.writeString(config, settings.isEmpty() ? yaml : yaml.replace("key_prefix: tbgw", settings));
        }
        return config;
    }

    private void record(String v, String measure, double value) {
        results.computeIfAbsent(v, k -> new LinkedHashMap<>()).computeIfAbsent(measure, k -> new ArrayList<>())
                .add(value);
    }

    private double last(String v, String measure) {
        List<Double> l = results.get(v).get(measure);
        return l.get(l.size() - 1);
    }

    private double med(String v, String measure) {
        return Stats.median(results.get(v).get(measure));
    }

    private Process start(String name, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path")));
        cmd.addAll(args);
        Path log = Files.createTempFile("tokenbudget-bench-" + name, ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        children.add(p);
        System.out.printf("started %s (pid %d, log %s)%n", name, p.pid(), log);
        return p;
    }

    private void stopAll() {
        for (Process p : children) {
            p.destroy();
        }
        for (Process p : children) {
            try {
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        children.clear();
    }

    /** Polls the route with a real request until it answers 200 (bounded: three minutes). */
    static void awaitReady(String variant, String url) throws InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").header("Authorization", "Bearer sk-bench")
                .POST(HttpRequest.BodyPublishers.ofString(JSON_BODY)).build();
        String last = "no answer";
        for (int i = 0; i < 360; i++) {
            try {
                HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("variant " + variant + " did not answer 200 on " + url + ": " + last);
    }

    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([\\d.]+)");
    private static final Pattern COUNT = Pattern.compile("(\\d+) requests in");
    private static final Pattern PCT = Pattern.compile("^\\s+(50|99)%\\s+([\\d.]+)(us|ms|s)\\s*$", Pattern.MULTILINE);
    private static final Pattern ERRORS = Pattern.compile("Non-2xx or 3xx responses: (\\d+)|Socket errors: connect "
            + "[1-9]|read [1-9]|write [1-9]");
    private static final Pattern TIMEOUTS = Pattern.compile("timeout (\\d+)");

    /** One wrk run: {requests/s, p50 µs, p99 µs, requests}; a run with errors fails the benchmark. */
    private static double[] wrk(String url, Path lua, int seconds, int connections) throws Exception {
        Process p = new ProcessBuilder("wrk", "-t2", "-c" + connections, "-d" + seconds + "s", "--latency",
                "-s", lua.toString(), url).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("wrk failed: " + out);
        }
        Matcher err = ERRORS.matcher(out);
        if (err.find()) {
            throw new IllegalStateException("wrk saw errors on " + url + ":\n" + out);
        }
        Matcher m = RPS.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no Requests/sec in wrk output:\n" + out);
        }
        Matcher t = TIMEOUTS.matcher(out);
        if (t.find()) {
            // wrk's own 2 s timeout; counted in p99 as 2 s, reported
            System.out.println("  (wrk: " + t.group(1) + " requests over 2 s on " + url + ")");
        }
        Matcher c = COUNT.matcher(out);
        double[] r = {Double.parseDouble(m.group(1)), 0, 0, c.find() ? Double.parseDouble(c.group(1)) : 0};
        Matcher pm = PCT.matcher(out);
        while (pm.find()) {
            double v = Double.parseDouble(pm.group(2)) * switch (pm.group(3)) {
                case "us" -> 1;
                case "ms" -> 1e3;
                default -> 1e6;
            };
            r[pm.group(1).equals("50") ? 1 : 2] = v;
        }
        return r;
    }
}
