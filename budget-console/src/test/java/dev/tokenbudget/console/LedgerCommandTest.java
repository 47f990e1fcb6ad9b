package dev.tokenbudget.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.console.admin.AdminServer;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.HoldRequest;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.store.redis.TestRedis;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code tokenbudget ledger}: from the Redis store a config names, and from a running admin API. */
class LedgerCommandTest {

    private static final String TOKEN = "ledger-test-token-0123456789";

    private final Terminal cli = new Terminal();
    private final ManualClock clock = new ManualClock(Instant.parse("2026-05-10T09:00:00Z"));
    private final String prefix = TestRedis.uniquePrefix("ledgercli");
    private BudgetEngine engine;
    private AdminServer server;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (engine != null) {
            engine.close();
        }
        TestRedis.deleteKeys(prefix);
    }

    private static String config(String store) {
        return store + """
                defaults: { zone: UTC }
                budgets:
                  - id: workspace
                    windows: [{ period: month, limits: { total: 1B } }]
                    allocation:
                      rebalance: { at: 50%%, below: 50%%, share: 50%%, max: 30%% }
                  - { id: support, parent: workspace, overflow: true, windows: [{ period: month, limits: { total: 400M } }] }
                  - { id: internal, parent: workspace, windows: [{ period: month, limits: { total: 200M } }] }
                keys:
                  - { name: support, sha256: %s, budget: support }
                  - { name: internal, sha256: %s, budget: internal }
                """.formatted(KeyHash.of("sk-support"), KeyHash.of("sk-internal"));
    }

    /** Support at 95%, internal at 30%, a hold for support, then the mid-month rebalance: two ledger entries. */
    private void makeHistory(String yaml) {
        engine = BudgetEngine.builder(ConfigLoader.parse(yaml)).clock(clock).build();
        spend("sk-support", 380_000_000);
        spend("sk-internal", 60_000_000);
        engine.reservations().create(HoldRequest.forChild("workspace", "support", Limits.total(50_000_000))
                .id("launch").by("alice", "support launch"));
        clock.setTo(Instant.parse("2026-05-16T12:00:00Z"));
        assertThat(engine.rebalance()).hasSize(1);
    }

    private void spend(String key, long tokens) {
        Ticket t = engine.reserve(new BudgetRequest(engine.authenticate(key).orElseThrow(), null, null, "m", tokens, 0));
        engine.settle(t, TokenUsage.of(tokens, 0));
    }

    @Test
    void readsTheLedgerFromTheRedisStoreTheConfigNames() throws Exception {
        String yaml = config("""
                store: { type: redis, redis: { uri: "%s", key_prefix: %s, timeout: 5s } }
                """.formatted(TestRedis.uri(), prefix));
        makeHistory(yaml);
        Path file = dir.resolve("engine.yaml");
        Files.writeString(file, yaml);

        assertThat(cli.run("ledger", file.toString())).as(cli.err()).isZero();
        List<String> lines = cli.out().lines().toList();
        assertThat(lines.get(0)).startsWith("SEQ").contains("KIND", "BUDGET", "BEFORE -> AFTER", "REASON");
        assertThat(lines.get(1)).contains("reservation_created", "support", "month:2026-05", "- -> total 50M",
                "alice", "support launch");
        assertThat(lines.get(2)).contains("2026-05-16T12:00:00Z", "rebalance", "internal", "total 200M -> total 140M",
                "to the pool of 'workspace'");
        assertThat(lines).hasSize(3);

        cli.clearOut();
        assertThat(cli.run("ledger", file.toString(), "--json", "--budget", "internal")).isZero();
        List<String> json = cli.out().lines().toList();
        assertThat(json).hasSize(1);
        JsonNode e = new ObjectMapper().readTree(json.get(0));
        assertThat(e.path("seq").asLong()).isEqualTo(2);
        assertThat(e.path("kind").asText()).isEqualTo("rebalance");
        assertThat(e.path("before").path("total").asLong()).isEqualTo(200_000_000);
        assertThat(e.path("after").path("total").asLong()).isEqualTo(140_000_000);
        assertThat(e.path("idempotency_key").asText()).isEqualTo("rebalance:workspace/month:2026-05:internal");

        cli.clearOut();
        assertThat(cli.run("ledger", file.toString(), "--after", "1")).isZero();
        assertThat(cli.out().lines()).hasSize(2);
    }

    @Test
    void readsTheLedgerFromARunningAdminApi() throws Exception {
        makeHistory(config(""));
        server = AdminServer.builder(engine).token(TOKEN).port(0).sampleInterval(Duration.ZERO).start();
        assertThat(cli.run("ledger", "--url", "http://127.0.0.1:" + server.port(), "--token", TOKEN)).as(cli.err())
                .isZero();
        assertThat(cli.out()).contains("reservation_created", "rebalance", "total 200M -> total 140M");
        assertThat(cli.out().lines()).hasSize(3);
    }

    @Test
    void aMemoryStoreConfigIsSentToTheAdminApi() throws Exception {
        Path file = dir.resolve("memory.yaml");
        Files.writeString(file, config(""));
        assertThat(cli.run("ledger", file.toString())).isEqualTo(2);
        assertThat(cli.err()).contains("store: memory", "tokenbudget ledger --url");
        assertThat(cli.run("ledger")).isEqualTo(2);
        assertThat(cli.err()).contains("give either a CONFIG");
    }

    @Test
    void aWrongTokenIsNamed() throws Exception {
        makeHistory(config(""));
        try (AdminServer s = AdminServer.builder(engine).token(TOKEN).port(0).sampleInterval(Duration.ZERO).start()) {
            assertThat(cli.run("ledger", "--url", "http://127.0.0.1:" + s.port(), "--token", "wrong-token-0123456789"))
                    .isEqualTo(1);
            assertThat(cli.err()).contains("refused the token (401)");
        }
    }
}
