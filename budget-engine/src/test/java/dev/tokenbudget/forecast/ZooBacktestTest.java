package dev.tokenbudget.forecast;

import dev.tokenbudget.forecast.RegimeZoo.Regime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.EnumMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The forecaster on every regime of the zoo (seeds 1 to 3, 548 days, calendar months, the
 * forecast made on day 10), against the better of linear and rolling-14 for each series and
 * against Holt-Winters: the figures docs/forecast.md records, computed here, not copied.
 */
class ZooBacktestTest {

    private static final int SEEDS = 3;
    private static final int DAY = 10;

    /**
     * Per regime: summed day-10 MAPE of model, best baseline, Holt-Winters; windows, covered 80 / 95; the ideal
     * filter's MAPE where the regime has one (NaN otherwise).
     */
    private static final Map<Regime, double[]> RESULTS = new EnumMap<>(Regime.class);

    @BeforeAll
    static void backtestTheZoo() {
        Backtest bt = new Backtest(new Forecaster());
        for (Regime r : Regime.values()) {
            double[] x = new double[7];
            for (long seed = 1; seed <= SEEDS; seed++) {
                RegimeZoo.Generated g = RegimeZoo.generate(r, seed, LocalDate.of(2024, 1, 1), 548);
                x[6] += g.idealMape(DAY);
                for (Backtest.HorizonResult h : bt.run(g.series(), Backtest.WindowMode.month())) {
                    if (h.day() == DAY) {
                        x[0] += h.mapeModel();
                        x[1] += h.mapeBestBaseline();
                        x[2] += h.mapeHoltWinters();
                        x[3] += h.windows();
                        x[4] += h.coverage80() * h.windows();
                        x[5] += h.coverage95() * h.windows();
                    }
                }
            }
            RESULTS.put(r, x);
        }
    }

    /**
     * Regimes on which the model is known to lose to the better simple baseline, with the most it may lose by: a level
     * that wanders like a random walk, which the 14-day mean follows about as well as any method can: the ideal filter,
     * knowing the walk's parameters, is 0.989 of the best baseline over 100 seeds and loses on 44 % of series
     * (docs/forecast.md, "The criterion on 100 seeds"). A bound, so that the gap cannot widen unnoticed.
     */
    private static final Map<Regime, Double> KNOWN_GAPS = Map.of(Regime.WANDER, 1.15);

    @Test
    void dayTenErrorIsNotAboveTheBetterSimpleBaselineOnAnyRegimeButTheKnownGaps() {
        RESULTS.forEach((r, x) -> assertThat(x[0]).as(r + " model vs best of linear / rolling-14")
                .isLessThanOrEqualTo(KNOWN_GAPS.getOrDefault(r, 1.0) * x[1]));
    }

    @Test
    void whereTheBestForecastIsKnownTheModelIsNearIt() {
        // the steady kinds and the wandering level, where a filter that knows the generator's parameters is the best
        // forecast without the future (RegimeZoo.Generated.idealMape): seeds 1 to 3 give 1.05, 1.08 and 1.13
        long known = RESULTS.values().stream().filter(x -> !Double.isNaN(x[6])).count();
        assertThat(known).isEqualTo(3);
        RESULTS.forEach((r, x) -> {
            if (!Double.isNaN(x[6])) {
                assertThat(x[0]).as(r + " model vs the ideal filter").isGreaterThan(x[6]).isLessThan(1.2 * x[6]);
            }
        });
    }

    @Test
    void dayTenErrorIsClearlyLowerOnMostRegimes() {
        long tenPercent = RESULTS.values().stream().filter(x -> x[0] <= 0.9 * x[1]).count();
        long twentyPercent = RESULTS.values().stream().filter(x -> x[0] <= 0.8 * x[1]).count();
        assertThat(tenPercent).as("regimes at least 10 % better than the best baseline").isGreaterThanOrEqualTo(7);
        // growth and month-start effects, where the baselines are structurally wrong, and no weekly cycle, where
        // the long mean halves the level's noise; not most (docs/forecast.md: the noise floor)
        assertThat(twentyPercent).as("regimes at least 20 % better").isGreaterThanOrEqualTo(3);
        // growth that held for months is extrapolated undamped (the steady-trend candidate): without it 0.56 and 0.90
        assertThat(RESULTS.get(Regime.EXPONENTIAL_GROWTH)[0]).isLessThan(0.45 * RESULTS.get(Regime.EXPONENTIAL_GROWTH)[1]);
        assertThat(RESULTS.get(Regime.LINEAR_GROWTH)[0]).isLessThan(0.8 * RESULTS.get(Regime.LINEAR_GROWTH)[1]);
        assertThat(RESULTS.get(Regime.MONTH_START)[0]).isLessThan(0.5 * RESULTS.get(Regime.MONTH_START)[1]);
    }

    @Test
    void beatsHoltWintersOnMostRegimesAndOverall() {
        long better = RESULTS.values().stream().filter(x -> x[0] < x[2]).count();
        assertThat(better).isGreaterThanOrEqualTo(7);
        // Holt-Winters' own fitted smoothing is hard to beat where it fits; never by much
        RESULTS.forEach((r, x) -> assertThat(x[0]).as(r + " model vs Holt-Winters").isLessThan(1.15 * x[2]));
        double model = RESULTS.values().stream().mapToDouble(x -> x[0]).sum();
        double hw = RESULTS.values().stream().mapToDouble(x -> x[2]).sum();
        assertThat(model).isLessThan(0.8 * hw);
    }

    @Test
    void theBandsCoverWhatTheySayOverall() {
        double windows = RESULTS.values().stream().mapToDouble(x -> x[3]).sum();
        double c80 = RESULTS.values().stream().mapToDouble(x -> x[4]).sum() / windows;
        double c95 = RESULTS.values().stream().mapToDouble(x -> x[5]).sum() / windows;
        assertThat(c80).isBetween(0.70, 0.90);
        assertThat(c95).isBetween(0.85, 0.99);
        // no kind of workload is left with a band that means little
        RESULTS.forEach((r, x) -> assertThat(x[4] / x[3]).as(r + " cov80").isGreaterThan(0.5));
    }
}
