package dev.tokenbudget.forecast;

import org.junit.jupiter.api.Test;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * What the forecaster trusts while the history is short: a weekday pattern only as far as it stands
 * out from the noise, and, before any past forecast can be checked, only the level and the 14-day
 * mean (no trend, no Holt-Winters extrapolated from a week or two).
 */
class ShortHistoryTest {

    private static final LocalDate START = LocalDate.of(2026, 1, 5); // a Monday

    /** {@code days} days at 1000 × weekday lift (Saturday and Sunday) with log-normal noise. */
    private static DailySeries series(int days, double weekendLift, double sigma, long seed) {
        Random rnd = new Random(seed);
        long[] v = new long[days];
        for (int i = 0; i < days; i++) {
            DayOfWeek d = START.plusDays(i).getDayOfWeek();
            double lift = d == DayOfWeek.SATURDAY || d == DayOfWeek.SUNDAY ? weekendLift : 1;
            v[i] = Math.round(1000 * lift * Math.exp(sigma * rnd.nextGaussian()));
        }
        return DailySeries.of(START, v);
    }

    private static double spread(DailyModel m) {
        double hi = 0;
        double lo = Double.MAX_VALUE;
        for (DayOfWeek d : DayOfWeek.values()) {
            hi = Math.max(hi, m.factor(d));
            lo = Math.min(lo, m.factor(d));
        }
        return hi / lo;
    }

    @Test
    void aWeekdayPatternOfNoiseIsShrunkWhileARealOneIsKept() {
        double noise = 0;
        for (long seed = 1; seed <= 8; seed++) {
            // five weeks of 20 % noise and no weekly cycle: the raw weekday means differ by about ±9 %, so
            // unshrunk the busiest weekday comes out about 30 % above the quietest
            noise += spread(DailyModel.fit(series(35, 1.0, 0.2, seed))) / 8;
            // the same noise over a weekend 50 % above the weekdays
            assertThat(spread(DailyModel.fit(series(35, 1.5, 0.2, seed)))).as("seed " + seed).isGreaterThan(1.25);
        }
        assertThat(noise).isLessThan(1.15);
    }

    private static Forecast forecast(DailySeries history, int elapsed, int ahead) {
        LocalDate today = history.end();
        Instant now = today.atStartOfDay(ZoneOffset.UTC).toInstant();
        Instant start = today.minusDays(elapsed).atStartOfDay(ZoneOffset.UTC).toInstant();
        return new Forecaster().span(history, 0, now, ZoneOffset.UTC, start,
                today.plusDays(ahead).atStartOfDay(ZoneOffset.UTC).toInstant(), 0, -1);
    }

    @Test
    void withNoPastForecastToCheckTheLevelAndTheFourteenDayMeanWeighEqually() {
        // ten days rising steeply: a trend or Holt-Winters would extrapolate the rise, unchecked
        long[] v = new long[10];
        for (int i = 0; i < v.length; i++) {
            v[i] = 1000 + 150L * i;
        }
        DailySeries history = DailySeries.of(START, v);
        Forecast f = forecast(history, 5, 20);
        assertThat(f.drivers()).contains("weights: level 50 %, 14-day mean 50 %");
        double mean = java.util.Arrays.stream(v).average().orElseThrow();
        DailyModel m = DailyModel.fit(history);
        double level = 0;
        for (int k = 0; k < 20; k++) {
            level += m.expected(history.end().plusDays(k));
        }
        assertThat(f.expected()).isCloseTo((level + 20 * mean) / 2, within(1.0));
    }

    @Test
    void onceForecastsCanBeCheckedTheFourteenDayMeanIsOnlyAReference() {
        Forecast f = forecast(series(90, 1.3, 0.1, 9), 10, 20);
        assertThat(f.drivers()).anyMatch(d -> d.startsWith("weights:"))
                .noneMatch(d -> d.contains("14-day mean"));
    }
}
