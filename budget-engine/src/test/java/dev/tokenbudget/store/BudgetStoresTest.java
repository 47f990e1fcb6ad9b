package dev.tokenbudget.store;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.store.block.BlockStore;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import dev.tokenbudget.store.redis.RedisTestServer;
import dev.tokenbudget.store.redis.TestRedis;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Store selection from the YAML's store settings, and how a Redis store connects. */
class BudgetStoresTest {

    private static final Instant NOW = Instant.parse("2026-05-10T10:00:00Z");

    @TempDir
    Path dir;

    private static StoreSettings redis(String uri, boolean cluster) {
        return new StoreSettings("redis", uri, cluster, Duration.ofSeconds(2), TestRedis.uniquePrefix("sel"));
    }

    private static ReserveResult reserveOne(BudgetStore store) {
        Slot s = new Slot("team", WindowSpec.calendar(Period.MONTH, ZoneOffset.UTC).at(NOW), Limits.total(100),
                Limits.total(100), List.of(100));
        return store.reserve(new ReserveCommand("sel-" + UUID.randomUUID(), "l-1", NOW, NOW.plusSeconds(60),
                List.of(s), 1, 1));
    }

    @Test
    void memoryIsTheDefault() {
        try (BudgetStore a = BudgetStores.open(StoreSettings.MEMORY); BudgetStore b = BudgetStores.open(null)) {
            assertThat(a).isInstanceOf(InMemoryBudgetStore.class);
            assertThat(b).isInstanceOf(InMemoryBudgetStore.class);
        }
    }

    @Test
    void redisIsSharedBlockingAndOnServerTime() {
        StoreSettings settings = redis(TestRedis.uri(), false);
        try (BudgetStore s = BudgetStores.open(settings)) {
            assertThat(s).isInstanceOf(RedisBudgetStore.class);
            assertThat(s.capabilities()).containsExactlyInAnyOrder(BudgetStore.Capability.SHARED,
                    BudgetStore.Capability.BLOCKING_IO, BudgetStore.Capability.SERVER_TIME,
                    BudgetStore.Capability.ALLOCATION, BudgetStore.Capability.ASYNC_DECISIONS);
            assertThat(reserveOne(s).admitted()).isTrue();
        } finally {
            dev.tokenbudget.store.redis.TestRedis.deleteKeys(settings.keyPrefix());
        }
    }

    @Test
    void redisInTokenBlocksKeepsItsAsynchronousDecisions() {
        StoreSettings settings = redis(TestRedis.uri(), false).withBlocks(BlockSettings.of(8, 0.5, Duration.ofSeconds(1)));
        try (BudgetStore s = BudgetStores.open(settings)) {
            assertThat(s).isInstanceOf(BlockStore.class);
            // a block's renewal is asynchronous too: decisions stay on the event loop
            assertThat(s.capabilities()).containsExactlyInAnyOrder(BudgetStore.Capability.SHARED,
                    BudgetStore.Capability.BLOCKING_IO, BudgetStore.Capability.SERVER_TIME,
                    BudgetStore.Capability.ALLOCATION, BudgetStore.Capability.ASYNC_DECISIONS);
            assertThat(reserveOne(s).admitted()).isTrue();
        } finally {
            TestRedis.deleteKeys(settings.keyPrefix());
        }
    }

    @Test
    void badSettingsAreRefusedWithTheirPath() {
        assertThatThrownBy(() -> BudgetStores.open(new StoreSettings("mongo", null, false, Duration.ofSeconds(1),
                "tb"))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store.type");
        assertThatThrownBy(() -> BudgetStores.open(redis("http://127.0.0.1:6379", false)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("store.redis.uri");
        assertThatThrownBy(() -> BudgetStores.open(redis("redis://127.0.0.1:1,redis://127.0.0.1:2", false)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cluster: true");
    }

    @Test
    void aRedisDownAtStartupFailsFastThenConnectsWhenItComesUp() throws Exception {
        try (RedisTestServer server = RedisTestServer.start()) {
            server.kill();
            try (BudgetStore store = BudgetStores.open(redis(server.uri(), false))) {
                assertThatThrownBy(() -> reserveOne(store)).isInstanceOf(StoreUnavailableException.class)
                        .hasMessageContaining("127.0.0.1:" + server.port());
                server.restart();
                ReserveResult r = null;
                for (int i = 0; i < 1_000 && r == null; i++) {
                    try {
                        r = reserveOne(store);
                    } catch (StoreUnavailableException e) {
                        TimeUnit.MILLISECONDS.sleep(10);
                    }
                }
                assertThat(r).as("connected once Redis was up").isNotNull();
                assertThat(r.admitted()).isTrue();
            }
        }
    }

    @Test
    void tlsAndAclCredentialsComeFromTheUri() throws Exception {
        Path key = dir.resolve("key.pem");
        Path cert = dir.resolve("cert.pem");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=127.0.0.1")
                .redirectErrorStream(true).redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as("openssl made a certificate").isTrue();
        int tlsPort;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            tlsPort = free.getLocalPort();
        }
        try (RedisTestServer server = RedisTestServer.start("--tls-port", Integer.toString(tlsPort), "--tls-cert-file",
                cert.toString(), "--tls-key-file", key.toString(), "--tls-ca-cert-file", cert.toString(),
                "--tls-auth-clients", "no", "--user", "gateway", "on", ">s3cret", "~*", "&*", "+@all")) {
            String base = "rediss://gateway:%s@127.0.0.1:" + tlsPort + "?verifyPeer=NONE";
            try (BudgetStore store = BudgetStores.open(redis(base.formatted("s3cret"), false))) {
                assertThat(reserveOne(store).admitted()).isTrue();
            }
            try (BudgetStore wrong = BudgetStores.open(redis(base.formatted("wrong"), false))) {
                assertThatThrownBy(() -> reserveOne(wrong)).isInstanceOf(StoreUnavailableException.class);
            }
        }
    }

    @Test
    void sentinelUrisFindTheMaster() throws Exception {
        try (RedisTestServer master = RedisTestServer.start();
             RedisTestServer sentinel = RedisTestServer.startSentinel(master)) {
            int nobody;
            try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
                nobody = free.getLocalPort();
            }
            // the first sentinel listed is down: Lettuce asks the next
            StoreSettings settings = redis("redis-sentinel://127.0.0.1:" + nobody + ",127.0.0.1:" + sentinel.port()
                    + "#mymaster", false);
            assertThat(dev.tokenbudget.config.ConfigLoader.parse("""
                    version: 1
                    store: {type: redis, redis: {uri: "%s"}}
                    budgets: [{id: org, windows: [{period: month, limits: {total: 1M}}]}]
                    """.formatted(settings.redisUri())).store().redisUri()).isEqualTo(settings.redisUri());
            try (BudgetStore store = BudgetStores.open(settings)) {
                assertThat(reserveOne(store).admitted()).isTrue();
            }
            assertThat(master.command("DBSIZE")).as("keys written on the master").isNotEqualTo(":0");
        }
    }
}
