package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static dev.tokenbudget.engine.EngineFixture.sha;
import static org.assertj.core.api.Assertions.assertThat;

/** The engine records settled usage, and leases charged at expiry, into the history forecasts read. */
class UsageHistoryRecordingTest {

    private static final String YAML = """
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 1M } }]
              - id: team
                parent: org
                windows: [{ period: month, limits: { total: 500k } }]
            keys:
              - { name: k, sha256: %s, budget: team, user_windows: [{ period: day, limits: { total: 10k } }] }
            """.formatted(sha("k"));

    @Test
    void settlementsAndExpiredLeasesLandInTheHistoryButNotPerUserBudgets() {
        EngineFixture f = new EngineFixture(YAML);
        var key = f.key("k");
        Ticket a = f.engine.reserve(new BudgetRequest(key, null, "alice", "m", 300, 200));
        f.engine.settle(a, TokenUsage.of(250, 120));
        f.clock.advance(Duration.ofDays(1));
        f.engine.reserve(new BudgetRequest(key, null, null, "m", 40, 60)); // never settled
        f.clock.advance(Duration.ofMinutes(11));
        f.engine.expireLeases();

        var h = f.engine.history();
        Instant start = EngineFixture.START.minus(Duration.ofDays(1));
        Instant end = f.clock.now().plus(Duration.ofHours(1));
        assertThat(h.between("team", Dimension.INPUT, start, end)).isEqualTo(250 + 40);
        assertThat(h.between("org", Dimension.OUTPUT, start, end)).isEqualTo(120 + 60);
        assertThat(h.between("user:k:alice", Dimension.TOTAL, start, end)).isZero();
        var days = h.daily("org", Dimension.TOTAL, ZoneOffset.UTC, EngineFixture.START.atZone(ZoneOffset.UTC)
                .toLocalDate(), EngineFixture.START.atZone(ZoneOffset.UTC).toLocalDate().plusDays(2));
        assertThat(days.size()).isEqualTo(2);
        assertThat(days.at(0)).isEqualTo(370);
        assertThat(days.at(1)).isEqualTo(100);
    }
}
