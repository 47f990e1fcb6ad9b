package dev.tokenbudget.forecast;

import dev.tokenbudget.forecast.RegimeZoo.Regime;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On a steady workload the forecast is the long mean alone: no level shift, no launch, no slope beyond noise on
 * 28 or 90 days, and the long mean's past errors not clearly worse than the best candidate's. Growth, shifts and
 * launches are never taken for steady.
 */
class SteadyWorkloadTest {

    private static final LocalDate START = LocalDate.of(2024, 1, 1);
    private static final int DAYS = 548;

    /** The day-10 forecasts of each month from the fifth on (90 days of history), as the backtest makes them. */
    private static Ensemble.Result[] monthly(Regime r, long seed) {
        DailySeries s = RegimeZoo.generate(r, seed, START, DAYS).series();
        Ensemble.Result[] out = new Ensemble.Result[14];
        for (int k = 0; k < out.length; k++) {
            LocalDate month = START.plusMonths(4 + k);
            LocalDate cut = month.plusDays(10);
            int left = (int) java.time.temporal.ChronoUnit.DAYS.between(cut, month.plusMonths(1));
            out[k] = Ensemble.combine(s.slice(cut.minusDays(Backtest.LOOKBACK_DAYS), cut), left, 10, ForecastParams.DEFAULTS);
        }
        return out;
    }

    @Test
    void aSteadyWorkloadIsForecastByTheLongMeanAloneAndSaysSo() {
        for (Regime r : new Regime[] {Regime.STEADY_WEEKLY, Regime.NO_WEEKLY}) {
            int steady = 0;
            for (long seed = 1; seed <= 3; seed++) {
                for (Ensemble.Result e : monthly(r, seed)) {
                    if (e.steady()) {
                        steady++;
                        double[] only = new double[Candidates.COUNT];
                        only[Candidates.Kind.LONG_MEAN.ordinal()] = 1;
                        assertThat(e.weights()).containsExactly(only, org.assertj.core.data.Offset.offset(0.0));
                        assertThat(e.trending()).isZero();
                        assertThat(Drivers.of(e, LocalDate.of(2025, 1, 1)))
                                .contains("weights: long mean 100 %",
                                        "steady workload (no level shift, no trend beyond noise): the long mean alone");
                    } else {
                        assertThat(Drivers.of(e, LocalDate.of(2025, 1, 1))).noneMatch(d -> d.startsWith("steady workload"));
                    }
                }
            }
            // each of the two slope tests passes noise about 87 % of the time, and the long mean's past errors are
            // not always within 1.5 times the best's
            assertThat(steady).as(r + ": months taken for steady of 42").isGreaterThanOrEqualTo(21);
        }
    }

    @Test
    void growthShiftsAndLaunchesAreNeverTakenForSteady() {
        for (Regime r : new Regime[] {Regime.LINEAR_GROWTH, Regime.EXPONENTIAL_GROWTH}) {
            for (long seed = 1; seed <= 5; seed++) {
                assertThat(Arrays.stream(monthly(r, seed)).noneMatch(Ensemble.Result::steady)).as(r + " seed " + seed).isTrue();
            }
        }
        for (Regime r : new Regime[] {Regime.SHIFTS_UP, Regime.SHIFTS_DOWN, Regime.LAUNCH_DECAY}) {
            for (long seed = 1; seed <= 5; seed++) {
                for (Ensemble.Result e : monthly(r, seed)) {
                    if (e.steady()) {
                        assertThat(e.atCut().model().shifts()).as(r + " seed " + seed).isEmpty();
                        assertThat(e.atCut().decay()).isNull();
                    }
                }
            }
        }
    }

    @Test
    void theLongMeanMustNotHaveBeenClearlyBeatenAtTheOrigins() {
        double[][] paths = new double[Candidates.COUNT][];
        Candidates.Paths flat = new Candidates.Paths(paths, null, null, null, null, null, null, true);
        Candidates.Paths notFlat = new Candidates.Paths(paths, null, null, null, null, null, null, false);
        double[] w = new double[Candidates.COUNT];
        w[Candidates.Kind.LEVEL.ordinal()] = 0.5;
        // MSE 1.4 times the level's: weight 1 / 1.96 of it
        w[Candidates.Kind.LONG_MEAN.ordinal()] = 0.5 / 1.96;
        assertThat(Ensemble.steady(flat, w)).isTrue();
        assertThat(Ensemble.steady(notFlat, w)).isFalse();
        // MSE 1.6 times the level's: the long mean lags a level that wanders
        w[Candidates.Kind.LONG_MEAN.ordinal()] = 0.5 / 2.56;
        assertThat(Ensemble.steady(flat, w)).isFalse();
        assertThat(Ensemble.steady(flat, new double[Candidates.COUNT])).isFalse();
    }
}
