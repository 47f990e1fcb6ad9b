package dev.tokenbudget.forecast;

import dev.tokenbudget.forecast.HoltWinters.Fit;
import dev.tokenbudget.forecast.HoltWinters.Params;
import dev.tokenbudget.forecast.HoltWinters.Season;
import dev.tokenbudget.forecast.HoltWinters.Variant;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The recursions against cases worked by hand, and the AICc choice on series of known shape. */
class HoltWintersTest {

    private static final double[] WEEK_ADD = {10, -5, 0, 3, -8, 2, -2};
    private static final double[] WEEK_MUL = {1.3, 1.2, 1.1, 1.0, 0.9, 0.75, 0.75};

    @Test
    void simpleSmoothingFollowsTheHandComputedLevels() {
        // l0 = 10; errors 0, 2, 0, 4; levels 10, 11, 11, 13
        Fit f = HoltWinters.run(new double[] {10, 12, 11, 15}, new Variant(false, Season.NONE),
                new Params(0.5, 0, 0, 1));
        assertThat(f.level()).isCloseTo(13, within(1e-9));
        assertThat(f.sse()).isCloseTo(20, within(1e-9));
        assertThat(f.forecast(1)).isCloseTo(13, within(1e-9));
        assertThat(f.forecast(5)).isCloseTo(13, within(1e-9));
    }

    @Test
    void dampedTrendFollowsTheHandComputedStates() {
        // t1: level 12, slope 0.5*2 = 1; t2: forecast 12.9, level 14.45, slope 0.5*2.45 + 0.5*0.9*1 = 1.675
        Fit f = HoltWinters.run(new double[] {10, 14, 16}, new Variant(true, Season.NONE), new Params(0.5, 0.5, 0, 0.9));
        assertThat(f.level()).isCloseTo(14.45, within(1e-9));
        assertThat(f.slope()).isCloseTo(1.675, within(1e-9));
        assertThat(f.sse()).isCloseTo(16 + 3.1 * 3.1, within(1e-9));
        assertThat(f.forecast(1)).isCloseTo(14.45 + 0.9 * 1.675, within(1e-9));
        assertThat(f.forecast(2)).isCloseTo(14.45 + (0.9 + 0.81) * 1.675, within(1e-9));
    }

    @Test
    void aStableWeeklyPatternIsReproducedExactlyByBothSeasons() {
        double[] add = new double[21];
        double[] mul = new double[21];
        for (int t = 0; t < 21; t++) {
            add[t] = 100 + WEEK_ADD[t % 7];
            mul[t] = 100 * WEEK_MUL[t % 7];
        }
        Fit a = HoltWinters.run(add, new Variant(false, Season.ADDITIVE), new Params(0.3, 0, 0.2, 1));
        Fit m = HoltWinters.run(mul, new Variant(false, Season.MULTIPLICATIVE), new Params(0.3, 0, 0.2, 1));
        assertThat(a.sse()).isCloseTo(0, within(1e-9));
        for (int h = 1; h <= 14; h++) {
            assertThat(a.forecast(h)).isCloseTo(100 + WEEK_ADD[(21 + h - 1) % 7], within(1e-9));
            assertThat(m.forecast(h)).isCloseTo(100 * WEEK_MUL[(21 + h - 1) % 7], within(1e-6));
        }
    }

    @Test
    void aiccPicksTheMultiplicativeSeasonWithATrendOnGrowthAndKeepsPhiInBounds() {
        Random rnd = new Random(5);
        double[] y = new double[84];
        for (int t = 0; t < y.length; t++) {
            y[t] = 1000 * Math.pow(1.02, t) * WEEK_MUL[t % 7] * (1 + 0.01 * rnd.nextGaussian());
        }
        Fit f = HoltWinters.select(y);
        assertThat(f.variant()).isEqualTo(new Variant(true, Season.MULTIPLICATIVE));
        assertThat(f.params().phi()).isBetween(0.8, 0.98);
        double truth = 1000 * Math.pow(1.02, 84) * WEEK_MUL[0];
        assertThat(f.forecast(1)).isCloseTo(truth, within(0.05 * truth));
    }

    @Test
    void aiccKeepsTheWeeklySeasonOnAFlatNoisySeriesAndForecastsItsMean() {
        Random rnd = new Random(9);
        double[] y = new double[90];
        for (int t = 0; t < y.length; t++) {
            y[t] = 500 + WEEK_ADD[t % 7] * 5 + 20 * rnd.nextGaussian();
        }
        Fit f = HoltWinters.select(y);
        assertThat(f.variant().season()).isNotEqualTo(Season.NONE);
        double total = f.sum(1, 14);
        assertThat(total).isCloseTo(14 * 500, within(0.03 * 14 * 500));
    }

    @Test
    void aRestartTakesTheMedianOfTheNextWeekAsTheLevelAndLeavesItsErrorsOut() {
        double[] y = {10, 10, 10, 10, 20, 22, 18, 20, 21, 19, 20, 20, 20};
        Fit f = HoltWinters.run(y, new Variant(false, Season.NONE), new Params(0.5, 0, 0, 1), new int[] {4});
        // from day 4 the level is median(20, 22, 18, 20, 21, 19, 20) = 20, then 20, 21, 19.5, 19.75, 20.375, 19.6875,
        // 19.84375 on days 4 to 10, whose errors are not counted; day 11 misses by 0.15625, day 12 by 0.078125
        assertThat(f.n()).isEqualTo(y.length - HoltWinters.RESTART_DAYS);
        assertThat(f.sse()).isCloseTo(0.15625 * 0.15625 + 0.078125 * 0.078125, within(1e-12));
        assertThat(f.level()).isCloseTo(19.9609375, within(1e-12));
        // without the restart the step is an error of 10 on day 4 and the level lags it
        Fit plain = HoltWinters.run(y, new Variant(false, Season.NONE), new Params(0.5, 0, 0, 1));
        assertThat(plain.n()).isEqualTo(y.length);
        assertThat(plain.sse()).isGreaterThan(100);
    }

    @Test
    void withRestartsAtTheShiftsTheSmoothingIsChosenForTheCalmBetweenThem() {
        Random rnd = new Random(3);
        double[] y = new double[150];
        for (int t = 0; t < y.length; t++) {
            y[t] = (t < 50 ? 100 : t < 100 ? 180 : 110) * (1 + 0.05 * rnd.nextGaussian());
        }
        Fit plain = HoltWinters.select(y);
        Fit restarted = HoltWinters.select(y, new int[] {50, 100});
        // to absorb two steps the least squares choose a level that follows the last days; between the steps the
        // series is flat noise, best forecast by a long average
        assertThat(plain.params().alpha()).isGreaterThan(0.2);
        assertThat(restarted.params().alpha()).isLessThan(0.1);
        double truth = 14 * 110;
        assertThat(Math.abs(restarted.sum(1, 14) - truth)).isLessThan(Math.abs(plain.sum(1, 14) - truth));
        assertThat(restarted.sum(1, 14)).isCloseTo(truth, within(0.03 * truth));
    }

    @Test
    void shortHistoriesGetNoSeasonAndTooShortOnesNoFit() {
        assertThat(HoltWinters.select(new double[] {1, 2})).isNull();
        Fit f = HoltWinters.select(new double[] {10, 11, 9, 10, 12, 10, 11, 10, 9, 11});
        assertThat(f.variant().season()).isEqualTo(Season.NONE);
        assertThat(f.forecast(3)).isBetween(9.0, 12.0);
    }
}
