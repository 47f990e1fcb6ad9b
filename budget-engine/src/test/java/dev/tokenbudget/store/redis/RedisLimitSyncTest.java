package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Limit changes made on one engine reach engines on other Redis connections, and new ones. */
class RedisLimitSyncTest {

    private final String prefix = TestRedis.uniquePrefix("limits");
    private final List<BudgetEngine> engines = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        engines.forEach(BudgetEngine::close);
        TestKeys.deleteByPrefix(TestRedis.uri(), prefix);
    }

    private BudgetEngine engine() {
        BudgetEngine e = BudgetEngine.builder(ConfigLoader.parse("""
                store:
                  type: redis
                  redis: { uri: %s, timeout: 5s, key_prefix: %s }
                budgets:
                  - id: org
                    windows: [{ period: day, limits: { total: 10000 } }]
                keys:
                  - { name: k, sha256: %s, budget: org }
                """.formatted(TestRedis.uri(), prefix, KeyHash.of("k-secret")))).build();
        engines.add(e);
        return e;
    }

    private static Decision.Outcome spend(BudgetEngine e, long tokens) {
        var t = e.reserve(new BudgetRequest(e.authenticate("k-secret").orElseThrow(), null, null, "m", tokens, 0));
        e.settle(t, TokenUsage.of(tokens, 0));
        return t.decision().outcome();
    }

    @Test
    void aChangeOnOneInstanceHoldsOnEveryInstanceAfterItsSyncAndOnNewOnes() {
        BudgetEngine a = engine();
        BudgetEngine b = engine();
        assertThat(spend(b, 4_000)).isEqualTo(Decision.Outcome.ALLOW);

        a.updateLimits("org", "day", Limits.total(4_000));
        assertThat(b.syncLimits()).isEqualTo(1);
        assertThat(b.status("org").orElseThrow().windows().get(0).limits().total()).isEqualTo(4_000);
        assertThat(spend(b, 10)).isEqualTo(Decision.Outcome.REJECT);

        BudgetEngine c = engine();
        assertThat(c.status("org").orElseThrow().windows().get(0).limits().total()).isEqualTo(4_000);
        assertThat(spend(c, 10)).isEqualTo(Decision.Outcome.REJECT);

        b.updateLimits("org", "day", Limits.total(20_000));
        assertThat(a.syncLimits()).isEqualTo(1);
        assertThat(c.syncLimits()).isEqualTo(1);
        assertThat(spend(a, 10)).isEqualTo(Decision.Outcome.ALLOW);
    }
}
