package dev.tokenbudget.store.redis;

import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.config.TlsSettings;
import dev.tokenbudget.store.AbstractBudgetStoreTest;
import dev.tokenbudget.store.BudgetStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The conformance suite over TLS with the server's certificate verified: a private redis-server
 * presenting a certificate for IP 127.0.0.1 from a CA made for this run, which the store trusts
 * through {@code store.redis.tls.ca_file} alone (the JVM trust store does not know it; see
 * {@link RedisTlsVerificationTest}).
 */
class RedisTlsBudgetStoreTest extends AbstractBudgetStoreTest {

    @TempDir
    static Path certificates;

    private static RedisTestServer server;
    private static TestCertificates.Pair ca;

    @BeforeAll
    static void startTlsRedis() throws Exception {
        TestCertificates made = TestCertificates.in(certificates);
        ca = made.authority("ca");
        server = RedisTestServer.startTls(made.server("server", ca, "IP:127.0.0.1"), ca.cert(), "no");
    }

    @AfterAll
    static void stopTlsRedis() {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected BudgetStore createStore() {
        // a fresh prefix per test: the server is private, its keys go with it
        return RedisBudgetStore.open(new StoreSettings("redis", "rediss://127.0.0.1:" + server.tlsPort(), false,
                Duration.ofSeconds(5), TestRedis.uniquePrefix("tls"), new TlsSettings(ca.cert(), null, null)));
    }

    @Override
    protected void letStoreTimePass(Duration d) {
        RedisTime.waitFor(server.port(), d);
    }

    @Override
    protected int concurrencyRounds() {
        return 150;
    }
}
