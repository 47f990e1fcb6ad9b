package dev.tokenbudget.forecast;

import org.junit.jupiter.api.Test;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ForecasterTest {

    private static final ZoneId UTC = ZoneOffset.UTC;
    /** Monday-heavy profile, Monday first, mean exactly 1. */
    private static final double[] PROFILE = {1.4, 1.2, 1.1, 1.1, 1.0, 0.6, 0.6};
    private final Forecaster forecaster = new Forecaster();

    /** Days before {@code end} following the profile exactly at {@code level} tokens a day. */
    private static DailySeries exact(LocalDate end, int days, double level) {
        long[] v = new long[days];
        LocalDate start = end.minusDays(days);
        for (int i = 0; i < days; i++) {
            v[i] = Math.round(level * PROFILE[start.plusDays(i).getDayOfWeek().getValue() - 1]);
        }
        return DailySeries.of(start, v);
    }

    private static Instant at(LocalDate d) {
        return d.atStartOfDay(UTC).toInstant();
    }

    private static double expectedSum(LocalDate from, LocalDate to, double level) {
        double s = 0;
        for (LocalDate d = from; d.isBefore(to); d = d.plusDays(1)) {
            s += level * PROFILE[d.getDayOfWeek().getValue() - 1];
        }
        return s;
    }

    @Test
    void learnsTheWeekdayProfileAndLevelOfAnExactSeries() {
        DailyModel m = DailyModel.fit(exact(LocalDate.of(2026, 3, 1), 84, 1_000_000));
        assertThat(m.stage()).isEqualTo(DailyModel.Stage.WEEKDAY);
        assertThat(m.factor(DayOfWeek.MONDAY)).isCloseTo(1.4, within(0.005));
        assertThat(m.factor(DayOfWeek.SUNDAY)).isCloseTo(0.6, within(0.005));
        assertThat(m.level()).isCloseTo(1_000_000, within(5_000.0));
        assertThat(m.shifts()).isEmpty();
    }

    @Test
    void projectsTheRestOfMonthsOfEveryLengthFromTheWeekdayProfile() {
        for (LocalDate first : new LocalDate[] {LocalDate.of(2024, 2, 1), LocalDate.of(2025, 2, 1),
                LocalDate.of(2026, 4, 1), LocalDate.of(2026, 5, 1)}) {
            LocalDate cut = first.plusDays(10);
            LocalDate end = first.plusMonths(1);
            DailySeries h = exact(cut, 90, 500_000);
            long used = h.sum(first, cut);
            Forecast f = forecaster.span(h, 0, at(cut), UTC, at(first), at(end), used, -1);
            double truth = used + expectedSum(cut, end, 500_000);
            assertThat(f.expected()).as(first.toString()).isCloseTo(truth, within(truth * 0.005));
            assertThat(f.lower80()).isLessThan(truth);
            assertThat(f.upper80()).isGreaterThan(truth);
        }
    }

    @Test
    void countsOnlyTheRestOfAPartialDay() {
        LocalDate today = LocalDate.of(2026, 6, 10); // a Wednesday, factor 1.1
        DailySeries h = exact(today, 60, 100_000);
        Instant noon = at(today).plus(Duration.ofHours(12));
        Forecast onPace = forecaster.span(h, 55_000, noon, UTC, at(today), at(today.plusDays(1)), 55_000, -1);
        assertThat(onPace.expected()).isCloseTo(110_000, within(1.0));
    }

    @Test
    void aBurstDaySeenByNoonRaisesTheRestOfThatDayOnly() {
        LocalDate today = LocalDate.of(2026, 6, 10);
        DailySeries h = exact(today, 60, 100_000);
        Instant noon = at(today).plus(Duration.ofHours(12));
        // twice the pace by noon: believed half (half a day passed, todayWeight 0.5), so x1.5 until midnight
        Forecast day = forecaster.span(h, 110_000, noon, UTC, at(today), at(today.plusDays(1)), 110_000, -1);
        assertThat(day.expected()).isCloseTo(110_000 + 55_000 * 1.5, within(1.0));
        // the days after keep the model's level
        Forecast week = forecaster.span(h, 110_000, noon, UTC, at(today), at(today.plusDays(2)), 110_000, -1);
        assertThat(week.expected() - day.expected()).isCloseTo(110_000, within(1.0));
    }

    @Test
    void theIntradayProfileKeepsAQuietEveningQuiet() {
        LocalDate today = LocalDate.of(2026, 6, 10);
        DailySeries h = exact(today, 60, 100_000);
        double[] office = new double[24];
        java.util.Arrays.fill(office, 8, 18, 1.0); // all usage between 08:00 and 18:00
        IntradayProfile p = IntradayProfile.of(office);
        Instant six = at(today).plus(Duration.ofHours(18));
        Forecast f = forecaster.span(h, 110_000, p, six, UTC, at(today), at(today.plusDays(1)), 110_000, -1);
        assertThat(f.expected()).isCloseTo(110_000, within(1.0));
        Instant one = at(today).plus(Duration.ofHours(13));
        Forecast mid = forecaster.span(h, 55_000, p, one, UTC, at(today), at(today.plusDays(1)), 55_000, -1);
        assertThat(mid.expected()).isCloseTo(110_000, within(1.0));
    }

    @Test
    void projectsExhaustionWhereTheBurnReachesTheLimit() {
        LocalDate first = LocalDate.of(2026, 7, 1);
        LocalDate cut = first.plusDays(14);
        DailySeries h = exact(cut, 90, 1_000_000);
        long used = h.sum(first, cut);
        long limit = used + Math.round(expectedSum(cut, cut.plusDays(3), 1_000_000)) + 500_000;
        Forecast f = forecaster.span(h, 0, at(cut), UTC, at(first), at(first.plusMonths(1)), used, limit);
        // three full days, then half a million into the fourth
        double fourth = 1_000_000 * PROFILE[cut.plusDays(3).getDayOfWeek().getValue() - 1];
        Instant expect = at(cut.plusDays(3)).plusMillis((long) (86_400_000L * 500_000 / fourth));
        assertThat(Duration.between(expect, f.exhaustion()).abs()).isLessThan(Duration.ofMinutes(30));
        assertThat(forecaster.span(h, 0, at(cut), UTC, at(first), at(first.plusMonths(1)), used, limit * 10)
                .exhaustion()).isNull();
        assertThat(forecaster.span(h, 0, at(cut), UTC, at(first), at(first.plusMonths(1)), used, used)
                .exhaustion()).isEqualTo(at(cut));
    }

    @Test
    void detectsADoublingWithinThreeDaysAndProjectsTheNewLevel() {
        LocalDate launch = LocalDate.of(2026, 9, 14);
        DailySeries before = exact(launch, 60, 1_000_000);
        DailySeries after = exact(launch.plusDays(5), 5, 2_000_000);
        long[] v = new long[65];
        for (int i = 0; i < 60; i++) {
            v[i] = before.at(i);
        }
        for (int i = 0; i < 5; i++) {
            v[60 + i] = after.at(i);
        }
        DailySeries h = DailySeries.of(before.start(), v);
        DailyModel m = DailyModel.fit(h);
        assertThat(m.shifts()).containsExactly(launch);
        assertThat(m.level()).isCloseTo(2_000_000, within(100_000.0));
        LocalDate cut = launch.plusDays(5);
        LocalDate first = LocalDate.of(2026, 9, 1);
        long used = h.sum(first, cut);
        Forecast f = forecaster.span(h, 0, at(cut), UTC, at(first), at(first.plusMonths(1)), used, -1);
        double truth = used + expectedSum(cut, first.plusMonths(1), 2_000_000);
        assertThat(f.expected()).isCloseTo(truth, within(truth * 0.05));
        assertThat(f.lastShift()).isEqualTo(launch);
    }

    @Test
    void oneSpikeIsNotALevelShift() {
        LocalDate end = LocalDate.of(2026, 10, 1);
        DailySeries base = exact(end, 60, 1_000_000);
        long[] v = new long[60];
        for (int i = 0; i < 60; i++) {
            v[i] = base.at(i) * (i == 50 ? 3 : 1);
        }
        DailyModel m = DailyModel.fit(DailySeries.of(base.start(), v));
        assertThat(m.shifts()).isEmpty();
        assertThat(m.level()).isCloseTo(1_000_000, within(60_000.0));
    }

    @Test
    void coldStartFallsBackToSimplerEstimatesWithWiderBands() {
        LocalDate first = LocalDate.of(2026, 11, 1);
        LocalDate end = first.plusMonths(1);
        // no complete day: today's usage scaled to the day
        Instant sixAm = at(first).plus(Duration.ofHours(6));
        Forecast none = forecaster.span(DailySeries.empty(first), 25_000, sixAm, UTC, at(first), at(end), 25_000,
                -1);
        assertThat(none.stage()).isEqualTo(DailyModel.Stage.NO_HISTORY);
        assertThat(none.expected()).isCloseTo(25_000 + 100_000 * (0.75 + 29), within(1.0));
        // three days: a flat level, no weekday factors
        DailySeries three = DailySeries.of(first, 100_000, 100_000, 100_000);
        Forecast flat = forecaster.span(three, 0, at(first.plusDays(3)), UTC, at(first), at(end), 300_000, -1);
        assertThat(flat.stage()).isEqualTo(DailyModel.Stage.FLAT);
        assertThat(flat.expected()).isCloseTo(3_000_000, within(1.0));
        // the same level known for 90 days gives a much narrower band
        DailySeries long90 = DailySeries.of(first.minusDays(87), constant(90, 100_000));
        Forecast known = forecaster.span(long90, 0, at(first.plusDays(3)), UTC, at(first), at(end), 300_000, -1);
        assertThat(flat.upper80() - flat.lower80()).isGreaterThan(2 * (known.upper80() - known.lower80()));
    }

    @Test
    void aRollingWindowRollsPastUsageOffAndProjectsTheNextLength() {
        LocalDate today = LocalDate.of(2026, 12, 10);
        // a week at 1000 a day, then the last three days at 2000 (a shift the CUSUM cannot yet call)
        long[] v = new long[40];
        for (int i = 0; i < 40; i++) {
            v[i] = i < 37 ? 1_000 : 2_000;
        }
        DailySeries h = DailySeries.of(today.minusDays(40), v);
        long used = 4 * 1_000 + 3 * 2_000; // the 7 days before today
        Forecast f = forecaster.rolling(h, 0, at(today), UTC, Duration.ofDays(7), used, 9_000);
        assertThat(f.used()).isEqualTo(10_000);
        assertThat(f.exhaustion()).isEqualTo(at(today));
        Forecast calm = forecaster.rolling(h, 0, at(today), UTC, Duration.ofDays(7), used, 50_000);
        assertThat(calm.exhaustion()).isNull();
        assertThat(calm.expected()).isBetween(7_000.0, 14_000.0);
    }

    @Test
    void aRollingWindowExhaustsWhenNewUsageOutrunsWhatRollsOff() {
        LocalDate today = LocalDate.of(2027, 1, 20);
        DailySeries h = DailySeries.of(today.minusDays(60), constant(60, 1_000));
        // 7000 in a 7-day window at a flat 1000 a day: steady, it never reaches 7500
        assertThat(forecaster.rolling(h, 0, at(today), UTC, Duration.ofDays(7), 7_000, 7_500).exhaustion()).isNull();
        // a budget one week old in a 14-day window: nothing rolls off yet, 1000 a day comes in
        long[] week = new long[60];
        java.util.Arrays.fill(week, 53, 60, 1_000);
        DailySeries young = DailySeries.of(today.minusDays(60), week);
        Forecast f = forecaster.rolling(young, 0, at(today), UTC, Duration.ofDays(14), 7_000, 10_000);
        assertThat(f.exhaustion()).isBetween(at(today.plusDays(2)), at(today.plusDays(4)));
    }

    private static long[] constant(int n, long v) {
        long[] out = new long[n];
        java.util.Arrays.fill(out, v);
        return out;
    }
}
