package dev.tokenbudget.store.redis;

import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.config.TlsSettings;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS with the server's certificate verified, against a private redis-server on loopback and
 * certificates made for this run: the CA named in {@code store.redis.tls.ca_file} is trusted (and
 * the JVM trust store alone is not enough), a certificate from another CA or for another name is
 * refused with the handshake's reason and every budget's fail mode applies at once (fail-open
 * admits uncounted, fail-closed answers 503), the engine recovers when the server presents a good
 * certificate again, a client certificate is sent when Redis asks for one, and bad TLS files stop
 * the store from opening with the field's name.
 */
class RedisTlsVerificationTest {

    @TempDir
    static Path dir;

    private static TestCertificates.Pair ca;
    private static TestCertificates.Pair good;
    private static TestCertificates.Pair otherCa;
    private static TestCertificates.Pair fromOtherCa;
    private static TestCertificates.Pair forOtherName;
    private static TestCertificates.Pair client;
    private static RedisTestServer server;

    private final List<BudgetEngine> engines = new ArrayList<>();
    private final ConcurrentLinkedQueue<BudgetEvent> events = new ConcurrentLinkedQueue<>();
    private final ExecutorService caller = Executors.newSingleThreadExecutor();

    @BeforeAll
    static void start() throws Exception {
        TestCertificates made = TestCertificates.in(dir);
        ca = made.authority("ca");
        good = made.server("server", ca, "IP:127.0.0.1");
        otherCa = made.authority("other-ca");
        fromOtherCa = made.server("server-other-ca", otherCa, "IP:127.0.0.1");
        forOtherName = made.server("server-other-name", ca, "DNS:redis.example.com,IP:10.9.8.7");
        client = made.client("gateway", ca);
        server = RedisTestServer.startTls(good, ca.cert(), "optional");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void closeEngines() throws Exception {
        engines.forEach(BudgetEngine::close);
        caller.shutdownNow();
        server.present(good);
    }

    @Test
    void theCaFileNamedInTheConfigIsTrustedAndRequestsAreCounted() throws Exception {
        BudgetEngine engine = engine(server.tlsPort(), "{ca_file: \"" + ca.cert() + "\"}");
        for (String name : List.of("open", "closed")) {
            Ticket t = reserve(engine, name);
            assertThat(t.decision().reason()).isEqualTo(Decision.Reason.WITHIN_BUDGET);
            assertThat(engine.settle(t, TokenUsage.of(30, 12))).isEqualTo(SettleResult.Status.SETTLED);
            assertThat(used(engine, name)).isEqualTo(TokenCounts.of(30, 12));
        }
        assertThat(storeFailures()).isEmpty();
    }

    @Test
    void withoutTheCaFileTheJvmTrustStoreRefusesTheTestCa() throws Exception {
        BudgetEngine engine = engine(server.tlsPort(), null);
        assertFailModes(engine);
        assertThat(storeFailures()).allSatisfy(f -> assertThat(f.message()).contains("TLS handshake failed")
                .containsAnyOf("PKIX", "certification path"));
    }

    @Test
    void aCertificateFromAnotherCaIsRefusedThenTheEngineRecoversWhenTheServerIsFixed() throws Exception {
        server.present(fromOtherCa);
        BudgetEngine engine = engine(server.tlsPort(), "{ca_file: \"" + ca.cert() + "\"}");
        assertFailModes(engine);
        assertThat(storeFailures()).allSatisfy(f -> assertThat(f.message())
                .contains("rediss://127.0.0.1:" + server.tlsPort()).contains("TLS handshake failed")
                .containsAnyOf("PKIX", "certification path").contains("store.redis.tls.ca_file"));

        server.present(good);
        Ticket t = awaitCounted(engine, "closed");
        assertThat(engine.settle(t, TokenUsage.of(5, 5))).isEqualTo(SettleResult.Status.SETTLED);
        assertThat(used(engine, "closed")).as("only the request served after the fix").isEqualTo(TokenCounts.of(5, 5));
        assertThat(used(engine, "open")).as("fail-open requests were admitted uncounted").isEqualTo(TokenCounts.ZERO);
    }

    @Test
    void aCertificateForAnotherNameIsRefusedEvenFromTheTrustedCa() throws Exception {
        server.present(forOtherName);
        BudgetEngine engine = engine(server.tlsPort(), "{ca_file: \"" + ca.cert() + "\"}");
        assertFailModes(engine);
        assertThat(storeFailures()).allSatisfy(f -> assertThat(f.message()).contains("TLS handshake failed")
                .containsIgnoringCase("subject alternative name"));

        // ?verifyPeer=CA checks the chain only (docs/redis.md): the same certificate is accepted
        BudgetEngine chainOnly = BudgetEngine.builder(ConfigLoader.parse(config("rediss://127.0.0.1:"
                + server.tlsPort() + "?verifyPeer=CA", "{ca_file: \"" + ca.cert() + "\"}"))).build();
        engines.add(chainOnly);
        assertThat(reserve(chainOnly, "closed").decision().reason()).isEqualTo(Decision.Reason.WITHIN_BUDGET);
    }

    @Test
    void aClientCertificateIsPresentedWhenRedisRequiresOne() throws Exception {
        try (RedisTestServer strict = RedisTestServer.startTls(good, ca.cert(), "yes")) {
            BudgetEngine without = engine(strict.tlsPort(), "{ca_file: \"" + ca.cert() + "\"}");
            assertFailModes(without);
            assertThat(storeFailures()).allSatisfy(f -> assertThat(f.message()).contains("TLS handshake failed")
                    .contains("store.redis.tls.cert_file"));

            BudgetEngine with = engine(strict.tlsPort(), "{ca_file: \"%s\", cert_file: \"%s\", key_file: \"%s\"}"
                    .formatted(ca.cert(), client.cert(), client.key()));
            Ticket t = reserve(with, "closed");
            assertThat(t.decision().reason()).isEqualTo(Decision.Reason.WITHIN_BUDGET);
            assertThat(with.settle(t, TokenUsage.of(7, 3))).isEqualTo(SettleResult.Status.SETTLED);
            assertThat(used(with, "closed")).isEqualTo(TokenCounts.of(7, 3));
        }
    }

    @Test
    void badTlsSettingsStopTheStoreFromOpeningNamingTheField() throws Exception {
        Path notPem = Files.writeString(dir.resolve("not-a-certificate.pem"), "hello\n");
        Path pkcs1 = Files.writeString(dir.resolve("pkcs1.key"), "-----BEGIN EC PRIVATE KEY-----\nAAAA\n"
                + "-----END EC PRIVATE KEY-----\n");
        String uri = "rediss://127.0.0.1:" + server.tlsPort();
        assertThatThrownBy(() -> RedisBudgetStore.open(settings(uri, new TlsSettings(dir.resolve("missing.pem"),
                null, null)))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("store.redis.tls.ca_file").hasMessageContaining("missing.pem");
        assertThatThrownBy(() -> RedisBudgetStore.open(settings(uri, new TlsSettings(notPem, null, null))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store.redis.tls.ca_file")
                .hasMessageContaining("not-a-certificate.pem");
        assertThatThrownBy(() -> RedisBudgetStore.open(settings(uri, new TlsSettings(ca.cert(), client.cert(),
                pkcs1)))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("store.redis.tls.key_file").hasMessageContaining("PKCS#8");

        assertThatThrownBy(() -> ConfigLoader.parse(config("redis://127.0.0.1:6379", "{ca_file: /etc/ca.pem}")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("store.redis.tls: applies to rediss:// URIs only (TLS), the uri is redis://");
        assertThatThrownBy(() -> ConfigLoader.parse(config(uri, "{cert_file: /etc/client.pem}")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("store.redis.tls.key_file: is required with cert_file");
        assertThatThrownBy(() -> ConfigLoader.parse(config(uri, "{ca: /etc/ca.pem}")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("store.redis.tls.ca: unknown field");
        assertThat(ConfigLoader.parse(config(uri, "{ca_file: /etc/redis/ca.pem}")).store().tls())
                .isEqualTo(new TlsSettings(Path.of("/etc/redis/ca.pem"), null, null));
    }

    /**
     * While the handshake is refused: each call returns (within a generous bound: it must not hang
     * on the handshake), fail-open admits uncounted, fail-closed refuses 503, each with an event.
     */
    private void assertFailModes(BudgetEngine engine) throws Exception {
        for (int i = 0; i < 5; i++) {
            Ticket open = reserve(engine, "open");
            assertThat(open.decision().outcome()).isEqualTo(Decision.Outcome.ALLOW);
            assertThat(open.decision().reason()).isEqualTo(Decision.Reason.STORE_FAIL_OPEN);
            assertThat(open.accounted()).isFalse();
            Ticket closed = reserve(engine, "closed");
            assertThat(closed.decision().reason()).isEqualTo(Decision.Reason.STORE_UNAVAILABLE);
            assertThat(closed.decision().httpStatus()).isEqualTo(503);
            Thread.sleep(120); // spread the calls over more than one connection attempt (one per 500 ms)
        }
        assertThat(storeFailures()).extracting(BudgetEvent.StoreFailure::budgetId)
                .contains("open-org", "closed-org");
    }

    private Ticket reserve(BudgetEngine engine, String name) throws Exception {
        Future<Ticket> f = caller.submit(() -> engine.reserve(new BudgetRequest(
                engine.authenticate("sk-" + name).orElseThrow(), null, null, "m", 20, 10)));
        try {
            return f.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("a reserve did not return within 60 s: it hangs on the TLS connection", e);
        }
    }

    private Ticket awaitCounted(BudgetEngine engine, String name) throws Exception {
        for (int i = 0; i < 600; i++) {
            Ticket t = reserve(engine, name);
            if (t.accounted()) {
                return t;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the engine did not connect once the server presented a trusted certificate");
    }

    private static TokenCounts used(BudgetEngine engine, String name) {
        return engine.status(name + "-org").orElseThrow().windows().get(0).used();
    }

    private List<BudgetEvent.StoreFailure> storeFailures() {
        return events.stream().filter(e -> e instanceof BudgetEvent.StoreFailure)
                .map(e -> (BudgetEvent.StoreFailure) e).toList();
    }

    private BudgetEngine engine(int tlsPort, String tls) {
        BudgetEngine engine = BudgetEngine.builder(ConfigLoader.parse(config("rediss://127.0.0.1:" + tlsPort, tls)))
                .build();
        engine.subscribe(events::add);
        engines.add(engine);
        return engine;
    }

    private static StoreSettings settings(String uri, TlsSettings tls) {
        return new StoreSettings("redis", uri, false, Duration.ofSeconds(2), "tbtest-tls", tls);
    }

    private static String config(String uri, String tls) {
        StringBuilder b = new StringBuilder("""
                version: 1
                store:
                  type: redis
                  redis: {uri: "%s", timeout: 2s, key_prefix: %s%s}
                budgets:
                """.formatted(uri, TestRedis.uniquePrefix("tls"), tls == null ? "" : ", tls: " + tls));
        StringBuilder keys = new StringBuilder("keys:\n");
        for (String name : List.of("open", "closed")) {
            b.append("""
                      - id: %s-org
                        on_store_failure: %s
                        windows: [{period: month, limits: {total: 1M}}]
                    """.formatted(name, name));
            keys.append("  - {name: %s, sha256: %s, budget: %s-org}\n".formatted(name, KeyHash.of("sk-" + name), name));
        }
        return b.append(keys).toString();
    }
}
