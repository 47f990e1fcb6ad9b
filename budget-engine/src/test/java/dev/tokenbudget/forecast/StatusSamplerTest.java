package dev.tokenbudget.forecast;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class StatusSamplerTest {

    @Test
    void recordsWhatSettledBetweenSamplesOnceAndFollowsANewWindow() {
        ManualClock clock = new ManualClock(Instant.parse("2026-11-30T22:00:00Z"));
        BudgetEngine engine = BudgetEngine.builder(ConfigLoader.parse("""
                budgets:
                  - id: team
                    windows: [ { period: month, zone: UTC, limits: { total: 1B } }, { period: rolling, length: 7d, limits: { total: 1B } } ]
                keys:
                  - { name: k, sha256: %s, budget: team }
                """.formatted(KeyHash.of("k1")))).clock(clock).build();
        VirtualKey key = engine.authenticate("k1").orElseThrow();
        InMemoryUsageHistory history = new InMemoryUsageHistory();
        StatusSampler sampler = new StatusSampler(engine, history);
        settle(engine, key, 500, 100); // before the first sample: the baseline, not history
        assertThat(sampler.sample()).isZero();
        settle(engine, key, 30, 10);
        clock.advance(Duration.ofMinutes(30));
        assertThat(sampler.sample()).isEqualTo(1);
        assertThat(sampler.sample()).isZero(); // nothing new: nothing counted twice
        clock.advance(Duration.ofHours(1)); // 23:30 UTC... and on into December
        clock.advance(Duration.ofMinutes(40));
        settle(engine, key, 7, 3); // in the new month's window
        sampler.sample();
        Instant from = Instant.parse("2026-11-30T00:00:00Z");
        Instant to = Instant.parse("2026-12-02T00:00:00Z");
        assertThat(history.between("team", Dimension.INPUT, from, to)).isEqualTo(37);
        assertThat(history.between("team", Dimension.TOTAL, from, to)).isEqualTo(50);
        assertThat(history.between("team", Dimension.TOTAL, Instant.parse("2026-12-01T00:00:00Z"), to)).isEqualTo(10);
    }

    private static void settle(BudgetEngine engine, VirtualKey key, long in, long out) {
        Ticket t = engine.reserve(new BudgetRequest(key, null, null, "m", in, out));
        engine.settle(t, TokenUsage.of(in, out));
    }
}
