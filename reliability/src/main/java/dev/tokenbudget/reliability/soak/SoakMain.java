package dev.tokenbudget.reliability.soak;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.ProviderTally;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The soak run behind {@code reliability/soak.sh}: the quickstart gateway (its jar, in a JVM of
 * its own) on Redis, in front of a fake provider in this JVM, driven at high concurrency with
 * JSON and streamed OpenAI and Anthropic requests for a bounded time. Then it reconciles what the
 * gateway settled (the root budget's usage, read through the admin API once nothing is reserved)
 * with what the provider reported (the fake's tally), and reports requests, outcomes by status,
 * latencies and the gateway's heap after GC over time. Exit 0 when nothing was lost, 1 when a
 * check failed, 2 on a usage error.
 */
public final class SoakMain {

    private final SoakOptions o;

    private SoakMain(SoakOptions o) {
        this.o = o;
    }

    public static void main(String[] args) throws Exception {
        SoakOptions o;
        try {
            o = SoakOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("soak: " + e.getMessage());
            System.err.println(SoakOptions.USAGE);
            System.exit(2);
            return;
        }
        System.exit(new SoakMain(o).run() ? 0 : 1);
    }

    private boolean run() throws Exception {
        Files.createDirectories(o.out());
        SecureRandom random = new SecureRandom();
        String prefix = "tb-soak-" + Long.toString(System.currentTimeMillis(), 36);
        String upstreamKey = "sk-soak-upstream-" + token(random);
        List<LoadGenerator.Key> keys = List.of(new LoadGenerator.Key("vk-soak-a1-" + token(random), false),
                new LoadGenerator.Key("vk-soak-a2-" + token(random), false),
                new LoadGenerator.Key("vk-soak-b1-" + token(random), true),
                new LoadGenerator.Key("vk-soak-stop-" + token(random), false));
        Path config = o.out().resolve("soak-tokenbudget.yaml");
        Files.writeString(config, config(prefix, keys));
        int gatewayPort = freePort();
        int adminPort = freePort();
        Map<String, String> env = Map.of("TOKENBUDGET_ADMIN_TOKEN", "soak-admin-" + token(random),
                "OPENAI_API_KEY", upstreamKey, "ANTHROPIC_API_KEY", upstreamKey);
        try (FakeProvider fake = FakeProvider.start(0).requireApiKey(upstreamKey).replyTokens(400).tokensPerChunk(4);
             QuickstartProcess gw = QuickstartProcess.start(o.jar(), o.javaOpts(), env, List.of(
                     "--server.port=" + gatewayPort, "--quickstart.admin.port=" + adminPort,
                     "--tokenbudget.config=file:" + config.toAbsolutePath(),
                     "--quickstart.openai-url=" + fake.baseUrl(), "--quickstart.anthropic-url=" + fake.baseUrl()),
                     o.out().resolve("quickstart.log"), adminPort)) {
            gw.awaitReady(gatewayPort);
            HeapSampler heap = new HeapSampler(gw.pid());
            HeapSampler.Sample before = heap.sample(0);
            System.out.printf("soak: quickstart pid %d on :%d (admin :%d), Redis %s prefix %s; %d clients for %s; "
                            + "heap after GC %s%n", gw.pid(), gatewayPort, adminPort, o.redis(), prefix, o.concurrency(),
                    o.duration(), SoakReport.mib(before.heapUsedKib()));
            LoadGenerator load = new LoadGenerator("http://127.0.0.1:" + gatewayPort, keys, o.users())
                    .start(o.concurrency());
            long t0 = System.nanoTime();
            long total = o.duration().toMillis();
            List<HeapSampler.Sample> during = new ArrayList<>();
            for (long at = o.sampleEvery().toMillis(); at <= total; at += o.sampleEvery().toMillis()) {
                sleepUntil(t0, at);
                HeapSampler.Sample s = heap.sample(at / 1000);
                during.add(s);
                System.out.printf("soak: t=%4ds requests=%d heap-after-GC=%s rss=%s%n", s.atSeconds(), load.sent(),
                        SoakReport.mib(s.heapUsedKib()), SoakReport.mib(s.rssKib()));
            }
            sleepUntil(t0, total);
            System.out.printf("soak: load stopped; waiting for %d requests in flight to end%n", o.concurrency());
            load.stop();
            Duration ran = Duration.ofNanos(System.nanoTime() - t0);
            JsonNode window = awaitNothingReserved(gw);
            List<String> open = window.path("reserved").path("total").asLong() == 0 ? List.of()
                    : OpenLeases.explain(o.redis(), prefix, "soak-org", gw.log(), 20);
            open.forEach(line -> System.out.println("soak: still reserved: " + line));
            HeapSampler.Sample after = heap.sample(ran.toSeconds());
            ProviderTally tally = awaitCounted(fake);
            SoakReport report = new SoakReport(o, prefix, ran, load, window, tally, before, during, after,
                    Files.readString(gw.log()), open);
            String text = report.text();
            System.out.println(text);
            Files.writeString(o.out().resolve("soak-report.txt"), text);
            return report.passed();
        }
    }

    private static void sleepUntil(long t0, long millisAfter) throws InterruptedException {
        long left = millisAfter - (System.nanoTime() - t0) / 1_000_000;
        if (left > 0) {
            Thread.sleep(left);
        }
    }

    /** The fake's tally once every exchange it received is counted (it counts just after the last byte). */
    private static ProviderTally awaitCounted(FakeProvider fake) throws InterruptedException {
        ProviderTally t = fake.tally();
        for (int i = 0; i < 600 && t.completed() + t.aborted() < t.requests(); i++) {
            Thread.sleep(100);
            t = fake.tally();
        }
        return t;
    }

    /**
     * The root budget's month window once no reservation is left (at most two minutes after the
     * load), saying every 10 s what is still reserved and how many store failures the gateway
     * logged, so that a wait is never silent.
     */
    private static JsonNode awaitNothingReserved(QuickstartProcess gw) throws IOException, InterruptedException {
        long start = System.nanoTime();
        long deadline = start + Duration.ofMinutes(2).toNanos();
        long nextNote = start + Duration.ofSeconds(10).toNanos();
        JsonNode w = rootWindow(gw);
        while ((w == null || w.path("reserved").path("total").asLong() != 0) && System.nanoTime() < deadline) {
            if (System.nanoTime() > nextNote) {
                String log = Files.readString(gw.log());
                System.out.printf("soak: %d s after the load, %s tokens still reserved on soak-org; gateway log: %d "
                                + "store failures, %d settles taken on retry%n", (System.nanoTime() - start) / 1_000_000_000L,
                        w == null ? "(admin API not answering)" : w.path("reserved").path("total").asText(),
                        SoakReport.count(log, "budget store failed"), SoakReport.count(log, "on retry"));
                nextNote += Duration.ofSeconds(10).toNanos();
            }
            Thread.sleep(200);
            w = rootWindow(gw);
        }
        if (w == null) {
            throw new IOException("the admin API did not answer for two minutes after the load; see " + gw.log());
        }
        return w;
    }

    /** The root budget's month window, or null when the admin API cannot read the store right now. */
    private static JsonNode rootWindow(QuickstartProcess gw) throws InterruptedException {
        try {
            return gw.get("/v1/budgets/soak-org").path("windows").get(0);
        } catch (IOException e) {
            return null;
        }
    }

    private String config(String prefix, List<LoadGenerator.Key> keys) {
        Map<String, String> budgetOf = new LinkedHashMap<>();
        budgetOf.put("a1", "soak-team-a");
        budgetOf.put("a2", "soak-team-a");
        budgetOf.put("b1", "soak-team-b");
        budgetOf.put("stop", "soak-stop");
        StringBuilder k = new StringBuilder();
        int i = 0;
        for (Map.Entry<String, String> e : budgetOf.entrySet()) {
            LoadGenerator.Key key = keys.get(i++);
            k.append("  - {name: soak-").append(e.getKey()).append(", sha256: ").append(sha256(key.secret()))
                    .append(", budget: ").append(e.getValue())
                    .append(key.users() ? ", user_windows: [{period: day, limits: {total: 1B}}]" : "").append("}\n");
        }
        return """
                # written by reliability/soak.sh for one run; the quickstart reads it
                store:
                  type: redis
                  redis: {uri: "%s", timeout: %s, key_prefix: %s%s}
                defaults: {zone: UTC, output_tokens: 512}
                providers:
                  openai: {api_key_env: OPENAI_API_KEY}
                  anthropic: {api_key_env: ANTHROPIC_API_KEY}
                budgets:
                  - id: soak-org
                    windows: [{period: month, limits: {total: 1000B}}]
                    thresholds: [{at: 100, policy: alert_only}]
                  - id: soak-team-a
                    parent: soak-org
                    windows:
                      - {period: day, limits: {total: 100B}}
                      - {period: rolling, length: 7d, name: weekly, limits: {total: 500B}}
                  - {id: soak-team-b, parent: soak-org, windows: [{period: day, limits: {total: 100B}}]}
                  - id: soak-stop
                    parent: soak-org
                    windows: [{period: day, limits: {total: 200k}}]
                    thresholds: [{at: 100, policy: hard_stop}]
                keys:
                """.formatted(o.redis(), o.redisTimeout(), prefix,
                o.blocks() == 0 ? "" : ", blocks: {max_requests: " + o.blocks() + "}") + k;
    }

    private static String token(SecureRandom random) {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
