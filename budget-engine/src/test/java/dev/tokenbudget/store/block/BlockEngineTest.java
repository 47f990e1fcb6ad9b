package dev.tokenbudget.store.block;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.store.redis.TestRedis;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An engine configured with {@code store.redis.blocks}: requests decided from blocks, alerts fired
 * once at their thresholds, the hard stop refusing at the cap, the status right, and Redis exact
 * after close.
 */
class BlockEngineTest {

    private static final String SECRET = "sk-block-test";
    private final String prefix = TestRedis.uniquePrefix("blockeng");

    @AfterEach
    void clean() {
        TestRedis.deleteKeys(prefix);
    }

    @Test
    void anEngineInBlocksAlertsOnceStopsAtTheCapAndCountsEveryToken() {
        BudgetEngine engine = engine(true);
        List<BudgetEvent.ThresholdCrossed> alerts = new CopyOnWriteArrayList<>();
        engine.subscribe(e -> {
            if (e instanceof BudgetEvent.ThresholdCrossed t) {
                alerts.add(t);
            }
        });
        assertThat(engine.store()).isInstanceOf(BlockStore.class);
        VirtualKey key = engine.authenticate(SECRET).orElseThrow();
        Random random = new Random(7);
        long in = 0;
        long out = 0;
        int rejected = 0;
        for (int i = 0; i < 700; i++) {
            Ticket t = engine.reserve(new BudgetRequest(key, null, null, "m", 100, 200));
            if (t.decision().outcome() == Decision.Outcome.REJECT) {
                assertThat(t.decision().reason()).isEqualTo(Decision.Reason.BUDGET_EXHAUSTED);
                rejected++;
                continue;
            }
            long ui = random.nextInt(101);
            long uo = random.nextInt(201);
            engine.settle(t, TokenUsage.of(ui, uo));
            in += ui;
            out += uo;
        }
        BudgetStatus org = engine.status("org").orElseThrow();
        assertThat(org.windows().get(0).used()).isEqualTo(TokenCounts.of(in, out));
        assertThat(((BlockStore) engine.store()).stats().carved()).isGreaterThan(100);
        assertThat(rejected).isPositive();
        assertThat(in + out).isLessThanOrEqualTo(60_000);
        assertThat(alerts).extracting(BudgetEvent.ThresholdCrossed::percent).containsExactly(50);
        assertThat(alerts.get(0).used().total()).isBetween(30_000L, 30_300L);
        engine.close();
        // Redis itself, through an engine without blocks: every token used, nothing left reserved
        try (BudgetEngine plain = engine(false)) {
            BudgetStatus after = plain.status("org").orElseThrow();
            assertThat(after.windows().get(0).used()).isEqualTo(TokenCounts.of(in, out));
            assertThat(after.windows().get(0).reserved()).isEqualTo(TokenCounts.ZERO);
        }
    }

    private BudgetEngine engine(boolean blocks) {
        return BudgetEngine.builder(ConfigLoader.parse("""
                version: 1
                store:
                  type: redis
                  redis:
                    uri: %s
                    timeout: 5s
                    key_prefix: %s
                %s
                budgets:
                  - id: org
                    windows:
                      - period: month
                        limits: {total: 60000}
                    thresholds:
                      - {at: 50, policy: alert_only}
                      - {at: 100, policy: hard_stop}
                keys:
                  - name: k
                    sha256: %s
                    budget: org
                """.formatted(TestRedis.uri(), prefix,
                blocks ? "    blocks: { max_requests: 32, headroom_share: 0.25 }" : "", KeyHash.of(SECRET)))).build();
    }
}
