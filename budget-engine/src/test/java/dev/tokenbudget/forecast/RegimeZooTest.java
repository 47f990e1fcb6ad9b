package dev.tokenbudget.forecast;

import dev.tokenbudget.forecast.RegimeZoo.Event;
import dev.tokenbudget.forecast.RegimeZoo.Generated;
import dev.tokenbudget.forecast.RegimeZoo.Regime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Each regime of the zoo has the property it is named for, on every seed. */
class RegimeZooTest {

    private static final LocalDate START = LocalDate.of(2024, 1, 1);
    private static final int DAYS = 548;

    private static Generated gen(Regime r, long seed) {
        return RegimeZoo.generate(r, seed, START, DAYS);
    }

    private static double mean(DailySeries s, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += s.at(i);
        }
        return sum / (to - from);
    }

    private static int index(LocalDate d) {
        return (int) java.time.temporal.ChronoUnit.DAYS.between(START, d);
    }

    /** Median usage of the same weekday within five weeks of day {@code i}, leaving out {@code skip}. */
    private static double weekdayMedian(DailySeries s, int i, Set<Integer> skip) {
        double[] v = new double[10];
        int k = 0;
        for (int w = -5; w <= 5; w++) {
            int j = i + 7 * w;
            if (w != 0 && j >= 0 && j < s.size() && !skip.contains(j)) {
                v[k++] = s.at(j);
            }
        }
        Arrays.sort(v, 0, k);
        return v[k / 2];
    }

    private static Set<Integer> days(Generated g) {
        Set<Integer> out = new HashSet<>();
        for (Event e : g.events()) {
            for (int k = 0; k < e.days(); k++) {
                out.add(index(e.day()) + k);
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(Regime.class)
    void isReproducibleFromItsSeedAndDiffersBetweenSeeds(Regime r) {
        assertThat(RegimeZoo.csv(gen(r, 3).series())).isEqualTo(RegimeZoo.csv(gen(r, 3).series()));
        assertThat(RegimeZoo.csv(gen(r, 3).series())).isNotEqualTo(RegimeZoo.csv(gen(r, 4).series()));
        assertThat(Regime.of(r.slug())).isEqualTo(r);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void theWeeklyCycleHasTheStatedAmplitudeAndNoWeeklyHasNone(long seed) {
        Generated g = gen(Regime.STEADY_WEEKLY, seed);
        double[] byDay = weekdayMeans(g.series());
        double ratio = Arrays.stream(byDay).max().orElseThrow() / Arrays.stream(byDay).min().orElseThrow();
        assertThat(ratio - 1).isCloseTo(g.weeklyAmplitude(), within(0.08));
        assertThat(g.weeklyAmplitude()).isBetween(0.24, 0.64);
        double[] flat = weekdayMeans(gen(Regime.NO_WEEKLY, seed).series());
        double m = Arrays.stream(flat).average().orElseThrow();
        for (double x : flat) {
            assertThat(x / m).isCloseTo(1.0, within(0.06));
        }
    }

    private static double[] weekdayMeans(DailySeries s) {
        double[] sum = new double[7];
        int[] n = new int[7];
        for (int i = 0; i < s.size(); i++) {
            int d = s.dateAt(i).getDayOfWeek().getValue() - 1;
            sum[d] += s.at(i);
            n[d]++;
        }
        for (int d = 0; d < 7; d++) {
            sum[d] /= n[d];
        }
        return sum;
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void linearGrowthAddsEqualAmountsAndExponentialEqualFactors(long seed) {
        Generated lin = gen(Regime.LINEAR_GROWTH, seed);
        DailySeries s = lin.series();
        double a = mean(s, 0, 28);
        double b = mean(s, DAYS / 2 - 14, DAYS / 2 + 14);
        double c = mean(s, DAYS - 28, DAYS);
        assertThat((c - b) / (b - a)).isCloseTo(1.0, within(0.15));
        double perDay = (lin.growth() - 1) / (DAYS - 1);
        double stated = (1 + perDay * (DAYS - 14.5)) / (1 + perDay * 13.5);
        assertThat(c / a).isCloseTo(stated, within(0.1 * stated));
        Generated exp = gen(Regime.EXPONENTIAL_GROWTH, seed);
        s = exp.series();
        a = mean(s, 0, 28);
        b = mean(s, DAYS / 2 - 14, DAYS / 2 + 14);
        c = mean(s, DAYS - 28, DAYS);
        assertThat((c / b) / (b / a)).isCloseTo(1.0, within(0.12));
        stated = Math.pow(exp.growth(), (DAYS - 28.0) / (DAYS - 1));
        assertThat(c / a).isCloseTo(stated, within(0.1 * stated));
        // x2.5 to x5 in 150 days
        assertThat(Math.pow(exp.growth(), 150.0 / (DAYS - 1))).isBetween(2.5, 5.0);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void levelShiftsMoveTheLevelByTheStatedFactorOnTheStatedDay(long seed) {
        for (Regime r : new Regime[] {Regime.SHIFTS_UP, Regime.SHIFTS_DOWN}) {
            Generated g = gen(r, seed);
            assertThat(g.events()).hasSizeGreaterThanOrEqualTo(4);
            for (Event e : g.events()) {
                int i = index(e.day());
                double ratio = mean(g.series(), i, Math.min(DAYS, i + 14)) / mean(g.series(), i - 14, i);
                assertThat(ratio).as(r + " " + e).isCloseTo(e.factor(), within(0.15 * e.factor()));
                assertThat(e.factor() > 1).as(r + " " + e).isEqualTo(r == Regime.SHIFTS_UP);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void launchesPeakAndDecayAndSuccessorsTakeTheStatedShare(long seed) {
        Generated g = gen(Regime.LAUNCH_DECAY, seed);
        assertThat(g.events()).hasSizeGreaterThanOrEqualTo(4);
        for (Event e : g.events()) {
            int i = index(e.day());
            if (i + 35 > DAYS) {
                continue;
            }
            double before = mean(g.series(), i - 7, i);
            double first = mean(g.series(), i, i + 7);
            double later = mean(g.series(), i + 28, i + 35);
            assertThat(first / before).as(e.toString()).isGreaterThan(1.5);
            assertThat(later).as(e.toString()).isLessThan(first).isGreaterThan(before);
        }
        g = gen(Regime.SUCCESSOR, seed);
        assertThat(g.events()).hasSizeGreaterThanOrEqualTo(4);
        for (Event e : g.events()) {
            int i = index(e.day());
            int after = i + e.days() + 5;
            if (after + 14 > DAYS) {
                continue;
            }
            double ratio = mean(g.series(), after, after + 14) / mean(g.series(), i - 14, i);
            assertThat(ratio).as(e.toString()).isCloseTo(e.factor(), within(0.2 * e.factor()));
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void rampsGrowAFewPercentADayFromALowStartToAPlateau(long seed) {
        Generated g = gen(Regime.RAMP_UP, seed);
        DailySeries s = g.series();
        assertThat(g.events()).hasSizeGreaterThanOrEqualTo(3);
        assertThat(index(g.events().get(0).day())).isBetween(14, 43);
        double product = 1;
        for (int k = 0; k < g.events().size(); k++) {
            Event e = g.events().get(k);
            product *= e.factor();
            int i = index(e.day());
            int end = i + e.days();
            double perDay = Math.pow(e.factor(), 1.0 / e.days()) - 1;
            assertThat(e.days()).as(e.toString()).isBetween(12, 56);
            assertThat(perDay).as(e.toString()).isBetween(0.024, 0.062);
            if (end + 28 > DAYS) {
                continue;
            }
            double before = mean(s, i - 14, i);
            // the plateau: x factor the level before, and flat until the next ramp (or for four weeks)
            int next = k + 1 < g.events().size() ? index(g.events().get(k + 1).day()) : Math.min(DAYS, end + 28);
            double plateau = mean(s, end, end + 14);
            assertThat(plateau / before).as(e.toString()).isCloseTo(e.factor(), within(0.12 * e.factor()));
            assertThat(mean(s, next - 14, next) / plateau).as(e.toString()).isCloseTo(1.0, within(0.08));
            // a constant rate, neither a step nor a straight line: on the generator's mean path each day of the ramp
            // is (1 + rate)^7 its weekday a week before, and the plateau's the same as a week before
            for (int d = i + 7; d < next; d++) {
                double week = d < end ? Math.pow(1 + perDay, 7) : d >= end + 6 ? 1 : Double.NaN;
                if (!Double.isNaN(week)) {
                    assertThat(g.mean()[d] / g.mean()[d - 7]).as(e + " day " + d).isCloseTo(week, within(1e-9));
                }
            }
            // and the usage follows it: each week of the ramp within the noise of the level before times (1 + rate)
            // to the power of its days into the ramp
            for (int w = i; w + 7 <= end; w += 7) {
                double stated = 0;
                for (int d = w; d < w + 7; d++) {
                    stated += Math.pow(1 + perDay, d - i + 1) / 7;
                }
                assertThat(mean(s, w, w + 7) / before).as(e + " week from day " + w)
                        .isCloseTo(stated, within(0.2 * stated));
            }
        }
        assertThat(g.growth()).isCloseTo(product, within(1e-9 * product));
        // from a low start: the last four weeks at least x8 the first two
        assertThat(mean(s, DAYS - 28, DAYS) / mean(s, 0, 14)).isGreaterThan(8);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void burstsOfOneToFiveDaysAreWhereStatedAndNowhereElse(long seed) {
        Generated g = gen(Regime.BURSTS, seed);
        Set<Integer> burst = days(g);
        assertThat(g.events()).hasSizeGreaterThanOrEqualTo(10)
                .allSatisfy(e -> assertThat(e.days()).isBetween(1, 5))
                .extracting(Event::days).contains(1, 5);
        for (int i = 0; i < DAYS; i++) {
            double ratio = g.series().at(i) / weekdayMedian(g.series(), i, burst);
            assertThat(ratio > 1.6).as("day " + i + " ratio " + ratio).isEqualTo(burst.contains(i));
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void monthStartDaysCarryTheStatedLift(long seed) {
        Generated g = gen(Regime.MONTH_START, seed);
        Set<Integer> lifted = days(g);
        assertThat(g.events()).hasSize(19); // 2024-01 to 2025-07
        for (int i = 0; i < DAYS; i++) {
            double ratio = g.series().at(i) / weekdayMedian(g.series(), i, lifted);
            assertThat(ratio > 1.8).as("day " + i).isEqualTo(g.series().dateAt(i).getDayOfMonth() <= 2);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void exactlyTheMissingDaysAreZero(long seed) {
        Generated g = gen(Regime.MISSING_DAYS, seed);
        Set<Integer> missing = days(g);
        assertThat(missing.size()).isBetween(DAYS / 50, DAYS / 8);
        assertThat(g.events()).anySatisfy(e -> assertThat(e.days()).isGreaterThan(1));
        for (int i = 0; i < DAYS; i++) {
            assertThat(g.series().at(i) == 0).as("day " + i).isEqualTo(missing.contains(i));
        }
        assertThat(g.series().dateAt(0).getDayOfWeek()).isEqualTo(DayOfWeek.MONDAY);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void aWanderingLevelStepsByItsStatedDeviationEveryDayWithoutADrift(long seed) {
        Generated g = gen(Regime.WANDER, seed);
        assertThat(g.events()).hasSize(1);
        double step = g.events().get(0).factor();
        assertThat(step).isBetween(0.01, 0.02);
        // the day-to-day change of the log mean path is the walk's step plus a weekday term that repeats each week:
        // take out each weekday's average change and what is left is the step alone
        double[] change = new double[DAYS - 1];
        double[] byWeekday = new double[7];
        int[] count = new int[7];
        for (int i = 1; i < DAYS; i++) {
            change[i - 1] = Math.log(g.mean()[i] / g.mean()[i - 1]);
            byWeekday[i % 7] += change[i - 1];
            count[i % 7]++;
        }
        double squares = 0;
        for (int i = 1; i < DAYS; i++) {
            double c = change[i - 1] - byWeekday[i % 7] / count[i % 7];
            squares += c * c;
        }
        assertThat(Math.sqrt(squares / (DAYS - 1 - 7))).as("the walk's daily step").isCloseTo(step, within(0.12 * step));
        // no drift: from a day to the same weekday 78 weeks later the steps average to nothing, within four standard
        // errors
        int weeks = 7 * ((DAYS - 1) / 7);
        assertThat(Math.abs(Math.log(g.mean()[weeks] / g.mean()[0]) / weeks)).isLessThan(4 * step / Math.sqrt(weeks));
    }

    @Test
    void theOracleMissesOnlyTheNoiseOfTheDaysAhead() {
        // averaged over seeds, what the oracle achieved is what the noise floor says it achieves on average
        for (Regime r : new Regime[] {Regime.STEADY_WEEKLY, Regime.LAUNCH_DECAY, Regime.WANDER}) {
            double achieved = 0;
            double floor = 0;
            for (long seed = 1; seed <= 20; seed++) {
                Generated g = gen(r, seed);
                achieved += g.oracleMape(10);
                floor += g.noiseFloor(10);
            }
            assertThat(achieved).as(r.slug()).isCloseTo(floor, within(0.1 * floor));
        }
        // it knows the missing days: a month with outages ahead is no error for it
        Generated missing = gen(Regime.MISSING_DAYS, 1);
        assertThat(missing.oracleMape(10)).isLessThan(1.5 * missing.noiseFloor(10));
    }

    @Test
    void theIdealOfASteadyWorkloadIsTheMeanOfEveryDaySoFar() {
        // with no walk the filter's level is the plain mean of the log deseasonalised days, its variance σ² / days:
        // computed here in one batch per month instead of day by day
        Generated g = gen(Regime.STEADY_WEEKLY, 1);
        double sum = 0;
        int months = 0;
        LocalDate m = LocalDate.of(2024, 1, 1);
        for (; !m.plusMonths(1).isAfter(g.series().end()); m = m.plusMonths(1)) {
            int from = (int) java.time.temporal.ChronoUnit.DAYS.between(g.series().start(), m);
            int to = (int) java.time.temporal.ChronoUnit.DAYS.between(g.series().start(), m.plusMonths(1));
            double logs = 0;
            for (int i = 0; i < from + 10; i++) {
                logs += Math.log(g.series().at(i) / weekday(g, i)) + g.noise() * g.noise() / 2;
            }
            double level = Math.exp(logs / (from + 10) + g.noise() * g.noise() / (from + 10) / 2);
            double actual = 0;
            double forecast = 0;
            for (int i = from; i < to; i++) {
                actual += g.series().at(i);
                forecast += i < from + 10 ? g.series().at(i) : level * weekday(g, i);
            }
            sum += Math.abs(forecast - actual) / actual;
            months++;
        }
        assertThat(g.idealMape(10)).isCloseTo(100 * sum / months, within(1e-9));
    }

    @Test
    void theIdealOfAWanderingLevelSeesNoFutureAndBeatsAFixedWindow() {
        double ideal = 0;
        double oracle = 0;
        double rolling14 = 0;
        for (long seed = 1; seed <= 20; seed++) {
            Generated g = gen(Regime.WANDER, seed);
            ideal += g.idealMape(10);
            oracle += g.oracleMape(10);
            rolling14 += new Backtest(new Forecaster()).run(g.series(), Backtest.WindowMode.month()).stream()
                    .filter(h -> h.day() == 10).findFirst().orElseThrow().mapeRolling14();
        }
        // it learns the level from the days so far only, so it misses more than the oracle; weighing them by the walk's
        // step and the noise, it misses less than the mean of the last 14 days (a filter with no walk, the mean of all
        // days, or one that follows the last day would not)
        assertThat(ideal).isGreaterThan(1.2 * oracle).isLessThan(rolling14);
        // where the regime has events no such filter foresees, there is no ideal
        assertThat(gen(Regime.SHIFTS_UP, 1).idealMape(10)).isNaN();
        assertThat(gen(Regime.MISSING_DAYS, 1).idealMape(10)).isNaN();
    }

    private static double weekday(Generated g, int i) {
        return g.weekdayFactors()[g.series().dateAt(i).getDayOfWeek().getValue() - 1];
    }

    @Test
    void theNoiseFloorIsTheRemainingDaysNoiseAndShrinksAsTheMonthGoesBy() {
        RegimeZoo.Generated g = RegimeZoo.generate(RegimeZoo.Regime.STEADY_WEEKLY, 1, java.time.LocalDate.of(2024, 1, 1),
                548);
        // a flat month: sqrt(2/pi) x 10 % x sqrt(20 days left) / 30 days, the weekly cycle moving it a little
        double flat = Math.sqrt(2 / Math.PI) * Math.sqrt(Math.exp(0.01) - 1) * Math.sqrt(20) / 30 * 100;
        assertThat(g.noiseFloor(10)).isCloseTo(flat, org.assertj.core.api.Assertions.within(0.1 * flat));
        assertThat(g.noiseFloor(5)).isGreaterThan(g.noiseFloor(10));
        assertThat(g.noiseFloor(20)).isLessThan(g.noiseFloor(10));
        RegimeZoo.Generated noWeekly = RegimeZoo.generate(RegimeZoo.Regime.NO_WEEKLY, 1,
                java.time.LocalDate.of(2024, 1, 1), 548);
        assertThat(noWeekly.noiseFloor(10)).isCloseTo(flat * 1.5, org.assertj.core.api.Assertions.within(0.1 * flat));
    }
}
