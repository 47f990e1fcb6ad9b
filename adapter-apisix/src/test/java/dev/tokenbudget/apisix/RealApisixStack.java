package dev.tokenbudget.apisix;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.PemTls;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.store.redis.TestCertificates;
import dev.tokenbudget.store.redis.TestRedis;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static dev.tokenbudget.apisix.BudgetProbe.freePort;

/**
 * What the real-APISIX tests of the shipped OpenAI and Anthropic routes run on: the kit
 * ({@link ApisixKit}) with the shipped {@code examples/apisix} files ({@link ShippedExamples}),
 * the published runner 0.4.0 as its own JVM with the shipped plugin jar, the fake provider and
 * the economy service over https (a throwaway CA that APISIX's nginx verifies) and a fake over
 * plain HTTP, and an engine on the same Redis keys as the runner's, to read budgets with.
 */
final class RealApisixStack implements AutoCloseable {

    final FakeProvider provider;
    final FakeProvider economy;
    final FakeProvider plain;
    final BudgetProbe probe;
    private final Path dir;
    private final String prefix;
    private final BudgetEngine engine;
    private final Map<String, String> runnerEnv;
    private final int settlePort;
    private ApisixKit kit;
    private RunnerProcess runner;
    private String base;

    private RealApisixStack(Path dir, String prefix, Map<String, String> runnerEnv, FakeProvider[] fakes,
                            BudgetEngine engine) {
        this.dir = dir;
        this.prefix = prefix;
        this.runnerEnv = runnerEnv;
        this.provider = fakes[0];
        this.economy = fakes[1];
        this.plain = fakes[2];
        this.engine = engine;
        this.probe = new BudgetProbe(engine);
        this.settlePort = freePort();
    }

    /**
     * Starts everything; closes what started when a later step fails.
     *
     * @param name          names the temporary directory and the Redis key prefix
     * @param secret        the settle endpoint's secret
     * @param upstreamKey   the provider key the fakes require and the runner's environment holds
     * @param engineConfig  the engine config's YAML for a Redis key prefix
     */
    static RealApisixStack start(String name, String secret, String upstreamKey,
                                 Function<String, String> engineConfig) throws Exception {
        Path dir = Files.createTempDirectory("tb-" + name);
        TestCertificates certs = TestCertificates.in(dir);
        TestCertificates.Pair ca = certs.authority("ca");
        TestCertificates.Pair cert = certs.server("providers", ca,
                "DNS:api.openai.com,DNS:api.anthropic.com,DNS:llm-economy.internal");
        FakeProvider[] fakes = new FakeProvider[3];
        String prefix = TestRedis.uniquePrefix(name);
        RealApisixStack s = null;
        try {
            fakes[0] = FakeProvider.start(0, PemTls.serverContext(cert.cert(), cert.key())).requireApiKey(upstreamKey);
            fakes[1] = FakeProvider.start(0, PemTls.serverContext(cert.cert(), cert.key())).requireApiKey(upstreamKey);
            fakes[2] = FakeProvider.start(0).requireApiKey(upstreamKey);
            Path engineFile = dir.resolve("tokenbudget.yaml");
            Files.writeString(engineFile, engineConfig.apply(prefix));
            BudgetEngine engine = BudgetEngine.builder(ConfigLoader.load(engineFile)).build();
            s = new RealApisixStack(dir, prefix, Map.of("OPENAI_API_KEY", upstreamKey, "ANTHROPIC_API_KEY",
                    upstreamKey, "TOKENBUDGET_SETTLE_SECRET", secret), fakes, engine);
            s.kit = ApisixKit.install(Path.of("target", "apisix-kit-home").toAbsolutePath(),
                    Map.of("TOKENBUDGET_SETTLE_SECRET", secret));
            s.runner = s.startRunner();
            Path config = dir.resolve("config.yaml");
            Files.writeString(config, ShippedExamples.config(ca.cert(), freePort()));
            Path routes = dir.resolve("apisix.yaml");
            Files.writeString(routes, ShippedExamples.routes(engineFile, s.settlePort, fakes[0].port(),
                    fakes[1].port(), fakes[2].port()));
            s.base = s.kit.start(config, routes, s.runner.socket());
            return s;
        } catch (Exception | Error e) {
            if (s != null) {
                s.close();
            } else {
                closeAll(fakes);
            }
            throw e;
        }
    }

    /**
     * The head of a test's engine config: the shared Redis under {@code keyPrefix}, with a timeout
     * a slow call on a shared two-core machine does not count as a store failure, a short lease and
     * UTC defaults; the test appends its providers, budgets and keys.
     */
    static String redisEngineHead(String keyPrefix) {
        return "store:\n  type: redis\n  redis:\n    uri: \"" + TestRedis.uri() + "\"\n    key_prefix: " + keyPrefix
                + "\n    timeout: 2s\n"
                + "lease_ttl: 20s\n"
                + "defaults:\n  zone: UTC\n  output_tokens: 200\n";
    }

    /** A config line giving {@code budget} the virtual key {@code secret}, by its hash. */
    static String key(String budget, String secret) {
        return "  - { name: " + budget + "-key, sha256: " + KeyHash.of(secret) + ", budget: " + budget + " }\n";
    }

    private RunnerProcess startRunner() throws Exception {
        return RunnerProcess.start(Path.of(System.getProperty("tokenbudget.apisix.runnerJar")),
                Path.of(System.getProperty("tokenbudget.apisix.pluginJar")), runnerEnv,
                List.of("-Dtokenbudget.apisix.settle-port=" + settlePort), dir);
    }

    /** Starts the runner again (after {@link RunnerProcess#kill}) on the same socket, as APISIX would. */
    RunnerProcess restartRunner() throws Exception {
        runner = startRunner();
        return runner;
    }

    /** APISIX's base URL. */
    String base() {
        return base;
    }

    RunnerProcess runner() {
        return runner;
    }

    ApisixKit kit() {
        return kit;
    }

    int settlePort() {
        return settlePort;
    }

    @Override
    public void close() throws Exception {
        try {
            if (kit != null) {
                kit.close();
            }
        } finally {
            if (runner != null) {
                runner.close();
            }
            closeAll(new FakeProvider[] {provider, economy, plain});
            engine.close();
            TestRedis.deleteKeys(prefix);
        }
    }

    private static void closeAll(FakeProvider[] fakes) {
        for (FakeProvider f : fakes) {
            if (f != null) {
                f.close();
            }
        }
    }
}
