package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.engine.BudgetStatus;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** History, forecasts and dollars: what the burn-down chart and the CLI's projections read. */
class BurnDownApiTest {

    /** Month-to-date linear extrapolation with a ±20% band: a real, if naive, forecaster. */
    static ForecastSource linear(AdminFixture[] f) {
        return (budgetId, w) -> {
            Dimension d = BudgetViews.bindingDimension(w);
            Instant now = f[0].clock.now();
            double elapsed = Duration.between(w.start(), now).toMillis();
            if (d == null || elapsed <= 0) {
                return Optional.empty();
            }
            long used = w.used().get(d);
            long limit = w.limits().get(d);
            double rate = used / elapsed;
            // a calendar window ends at its end; a rolling one is projected one length ahead
            boolean rolling = !w.window().contains(":");
            Instant horizon = rolling ? now.plus(Duration.between(w.start(), w.end())) : w.end();
            double expected = rolling ? rate * Duration.between(now, horizon).toMillis()
                    : rate * Duration.between(w.start(), w.end()).toMillis();
            Instant exhaustion = rate > 0 && !rolling && expected >= limit
                    ? now.plusMillis((long) ((limit - used) / rate)) : null;
            return Optional.of(new WindowForecast(now, d.label(), used, limit, expected, expected * 0.8,
                    expected * 1.2, expected * 0.7, expected * 1.3, horizon, exhaustion, "linear", 30, 12.5,
                    java.util.List.of("weights: level 100 %", "trend +18 %/month")));
        };
    }

    @Test
    void historyHoldsTheSampledCumulativeUsageAndEndsAtTheCountersNow() {
        try (AdminFixture f = new AdminFixture()) {
            for (int h = 1; h <= 3; h++) {
                f.clock.advance(Duration.ofHours(1));
                f.spend(AdminFixture.SUPPORT_KEY, 1_000_000 * h, 100_000);
                f.server.sample();
            }
            f.clock.advance(Duration.ofMinutes(30));
            f.spend(AdminFixture.SUPPORT_KEY, 500_000, 0);

            JsonNode hist = f.ok("/v1/budgets/support/history");
            assertThat(hist.path("source").asText()).isEqualTo("sampled");
            assertThat(hist.path("sample_interval_seconds").asLong()).isZero();
            JsonNode month = hist.path("windows").get(0);
            assertThat(month.path("key").asText()).isEqualTo("month:2026-11");
            JsonNode ps = month.path("points");
            // the start sample (nothing used), three samples, and now
            assertThat(ps).hasSize(5);
            long[] totals = new long[ps.size()];
            for (int i = 0; i < ps.size(); i++) {
                totals[i] = ps.get(i).path("total").asLong();
            }
            assertThat(totals).containsExactly(0, 1_100_000, 3_200_000, 6_300_000, 6_800_000);
            assertThat(ps.get(4).path("at").asText()).isEqualTo(f.clock.now().toString());
            assertThat(ps.get(1).path("input").asLong()).isEqualTo(1_000_000);
            assertThat(ps.get(1).path("output").asLong()).isEqualTo(100_000);
        }
    }

    @Test
    void byDefaultForecastsComeFromTheEnginesForecasterOverTheSampledHistory() {
        try (AdminFixture f = new AdminFixture()) {
            // two weeks of support traffic, sampled every two hours as the admin server would
            for (int step = 0; step < 14 * 12; step++) {
                f.clock.advance(Duration.ofHours(2));
                f.spend(AdminFixture.SUPPORT_KEY, 800_000, 200_000);
                f.server.sample();
            }
            JsonNode w = f.ok("/v1/budgets/support/forecast").path("windows");
            JsonNode month = w.get(0).path("forecast");
            assertThat(month.path("dimension").asText()).isEqualTo("total");
            assertThat(month.path("method").asText()).isEqualTo("weekday");
            assertThat(month.path("history_days").asInt()).isBetween(12, 14);
            long used = month.path("used").asLong();
            assertThat(used).isEqualTo(14 * 12 * 1_000_000L);
            // 12M a day for the 6 days and 23 hours left of November (Berlin)
            long expected = month.path("expected").asLong();
            assertThat(expected).isBetween(used + 75_000_000L, used + 92_000_000L);
            assertThat(month.path("band80").path("lower").asLong()).isBetween(used, expected);
            assertThat(month.path("band80").path("upper").asLong()).isGreaterThan(expected);
            assertThat(month.path("horizon_end").asText()).isEqualTo("2026-11-30T23:00:00Z");
            assertThat(month.path("exhaustion").isNull()).isTrue();
            // the rolling week is projected one length ahead: another 84M, under its 150M
            JsonNode week = w.get(1).path("forecast");
            assertThat(Instant.parse(week.path("horizon_end").asText())).isEqualTo(f.clock.now().plus(Duration.ofDays(7)));
            assertThat(week.path("expected").asLong()).isBetween(75_000_000L, 92_000_000L);
            assertThat(week.path("exhaustion").isNull()).isTrue();
        }
    }

    @Test
    void forecastsCanBeTurnedOff() {
        try (AdminFixture f = new AdminFixture(AdminFixture.exampleConfig(), b -> b.forecasts(ForecastSource.none()))) {
            f.spend(AdminFixture.SUPPORT_KEY, 1_000_000, 0);
            assertThat(f.ok("/v1/budgets/support/forecast").path("windows").get(0).path("forecast").isNull()).isTrue();
            assertThat(f.ok("/v1/budgets/support").path("windows").get(0).path("forecast").isNull()).isTrue();
        }
    }

    @Test
    void forecastsFromTheHostsSourceShowWithBandsAndExhaustion() {
        AdminFixture[] ref = new AdminFixture[1];
        try (AdminFixture f = new AdminFixture(AdminFixture.exampleConfig(), b -> b.forecasts(linear(ref)))) {
            ref[0] = f;
            // 225 of November's 720 hours (Berlin) gone, 120M of support's 400M used: on course for 384M
            f.spend(AdminFixture.SUPPORT_KEY, 100_000_000, 20_000_000);
            JsonNode fc = f.ok("/v1/budgets/support/forecast").path("windows").get(0).path("forecast");
            assertThat(fc.path("dimension").asText()).isEqualTo("total");
            assertThat(fc.path("used").asLong()).isEqualTo(120_000_000);
            assertThat(fc.path("limit").asLong()).isEqualTo(400_000_000);
            long expected = fc.path("expected").asLong();
            assertThat(expected).isCloseTo(384_000_000L, within());
            assertThat(fc.path("band80").path("lower").asLong()).isCloseTo(Math.round(expected * 0.8), within());
            assertThat(fc.path("band80").path("upper").asLong()).isCloseTo(Math.round(expected * 1.2), within());
            assertThat(fc.path("band95").path("upper").asLong()).isCloseTo(Math.round(expected * 1.3), within());
            assertThat(fc.path("horizon_end").asText()).isEqualTo("2026-11-30T23:00:00Z");
            assertThat(fc.path("method").asText()).isEqualTo("linear");
            assertThat(fc.path("history_days").asInt()).isEqualTo(30);
            assertThat(fc.path("trend_percent").asDouble()).isEqualTo(12.5);
            assertThat(fc.path("drivers")).extracting(JsonNode::asText).containsExactly("weights: level 100 %",
                    "trend +18 %/month");
            // the same forecast is part of the budget view and the list
            assertThat(f.ok("/v1/budgets/support").path("windows").get(0).path("forecast")).isEqualTo(fc);
            JsonNode listed = f.ok("/v1/budgets").path("budgets").get(1);
            assertThat(listed.path("id").asText()).isEqualTo("support");
            assertThat(listed.path("windows").get(0).path("forecast").path("expected").asLong()).isEqualTo(expected);
        }
    }

    private static org.assertj.core.data.Offset<Long> within() {
        return org.assertj.core.data.Offset.offset(2L);
    }

    @Test
    void exhaustionIsReportedWhenTheBurnReachesTheLimitBeforeTheEnd() {
        AdminFixture[] ref = new AdminFixture[1];
        try (AdminFixture f = new AdminFixture(AdminFixture.exampleConfig(), b -> b.forecasts(linear(ref)))) {
            ref[0] = f;
            f.spend(AdminFixture.SUPPORT_KEY, 150_000_000, 30_000_000);
            JsonNode fc = f.ok("/v1/budgets/support/forecast").path("windows").get(0).path("forecast");
            assertThat(fc.path("expected_utilisation").asDouble()).isGreaterThan(1.0);
            Instant out = Instant.parse(fc.path("exhaustion").asText());
            assertThat(out).isAfter(f.clock.now()).isBefore(Instant.parse("2026-11-30T23:00:00Z"));
        }
    }

    @Test
    void dollarsAreARangeOverTheModelsTheConfigPricesOrNames() {
        String yaml = """
                defaults: { zone: UTC }
                prices:
                  cheap-model: { input: 0.5, output: 1.5 }
                  dear-model: { input: 5, output: 25 }
                budgets:
                  - id: team
                    windows: [{ period: month, limits: { total: 100M } }]
                    thresholds: [{ at: 90, policy: degrade_route }]
                    degrade: { models: { unpriced-model: cheap-model } }   # named, no price: not in the range
                keys:
                  - name: k
                    sha256: %s
                    budget: team
                """.formatted(dev.tokenbudget.identity.KeyHash.of("k-secret-value"));
        try (AdminFixture f = new AdminFixture(yaml, b -> {
        })) {
            f.spend("k-secret-value", 2_000_000, 1_000_000);
            JsonNode d = f.ok("/v1/budgets/team").path("windows").get(0).path("dollars");
            assertThat(d.path("currency").asText()).isEqualTo("USD");
            assertThat(d.path("low").asDouble()).isEqualTo(2.5);   // 2M x 0.5 + 1M x 1.5
            assertThat(d.path("high").asDouble()).isEqualTo(35.0); // 2M x 5 + 1M x 25
            assertThat(d.path("cheapest_model").asText()).isEqualTo("cheap-model");
            assertThat(d.path("dearest_model").asText()).isEqualTo("dear-model");
        }
    }

    @Test
    void noDollarsWhenNoModelTheConfigNamesHasAPrice() {
        String yaml = """
                defaults: { zone: UTC }
                budgets:
                  - id: team
                    windows: [{ period: month, limits: { total: 100M } }]
                """;
        try (AdminFixture f = new AdminFixture(yaml, b -> {
        })) {
            assertThat(f.ok("/v1/budgets/team").path("windows").get(0).path("dollars").isNull()).isTrue();
        }
    }

    @Test
    void statusOfAWindowWithoutForecastKeepsTheFieldNull() {
        ForecastSource none = ForecastSource.none();
        assertThat(none.forecast("x", new BudgetStatus.WindowStatus("day:2026-11-10", Instant.EPOCH, Instant.EPOCH,
                dev.tokenbudget.budget.Limits.total(1), dev.tokenbudget.store.TokenCounts.ZERO,
                dev.tokenbudget.store.TokenCounts.ZERO, 0, BudgetStatus.State.OK))).isEmpty();
    }
}
