package dev.tokenbudget.forecast;

import java.util.Arrays;

/**
 * Combines the {@link Candidates} by how well each would have forecast this budget's own recent
 * past (rolling origins): at each of the last days whose outcome is known, every candidate
 * forecasts the same number of days ahead from the history before that day, with the same number
 * of window days behind it. Each is weighted by the inverse square of its mean squared relative
 * error on the window total, each origin's error counting {@link #ORIGIN_DECAY} times as much as the
 * next one's. The combination's own errors at those origins are kept: their spread
 * makes the forecast's bands (split conformal, see {@link Forecaster}), so the stated coverage is
 * what the method achieved on this budget, at this horizon.
 */
final class Ensemble {

    static final int MAX_ORIGINS = 40;
    static final int MIN_ORIGINS = 6;
    static final int MIN_WEIGHT_ORIGINS = 3;
    /**
     * Weight of an origin's error relative to the next origin's: the most recent past forecasts count most
     * (half as much 23 origins back), so that a candidate that has stopped fitting loses its weight sooner.
     */
    static final double ORIGIN_DECAY = 0.97;
    /** How much larger than the best candidate's the long mean's rolling-origin MSE may be on a steady workload. */
    static final double STEADY_MSE_RATIO = 1.5;

    /**
     * @param path    expected usage per day ahead
     * @param weights weight of each candidate kind (0 when unused)
     * @param atCut   the candidates now
     * @param ratios  actual over forecast window total at each origin, sorted (empty: too little history)
     * @param unjudged whether a candidate carries weight that no origin has judged (a launch's decay too
     *                 recent for any past forecast of it to have an outcome): the ratios do not reflect it
     * @param trending the share of the weight on candidates that extrapolate a trend: the local trend, and
     *                 Holt-Winters when its chosen variant has one
     * @param steady   whether the forecast is the long mean alone, the workload being steady ({@link #steady})
     */
    record Result(double[] path, double[] weights, Candidates.Paths atCut, double[] ratios, boolean unjudged,
                  double trending, boolean steady) {
    }

    private Ensemble() {
    }

    static Result combine(DailySeries history, int days, int elapsed, ForecastParams p) {
        double[] y = Candidates.values(history);
        Candidates.Learned learned = Candidates.learn(history, p);
        HoltWinters.Fit hw = Candidates.holtWinters(learned);
        Candidates.Paths now = Candidates.paths(learned, days, hw, p);
        int n = history.size();
        int lead = n - y.length;
        int minTrain = lead + Math.min(14, Math.max(5, y.length / 2));
        int first = Math.max(Math.max(minTrain, elapsed), n - days - MAX_ORIGINS + 1);
        int count = Math.max(0, n - days - first + 1);
        double[][] f = new double[count][];
        double[] actual = new double[count];
        double[] used = new double[count];
        for (int i = 0; i < count; i++) {
            int o = first + i;
            Candidates.Paths c = Candidates.paths(history.slice(history.start(), history.dateAt(o)), days, hw, p);
            f[i] = new double[Candidates.COUNT];
            for (Candidates.Kind k : Candidates.Kind.values()) {
                f[i][k.ordinal()] = c.has(k) ? c.sum(k, days) : Double.NaN;
            }
            actual[i] = sum(history, o, o + days);
            used[i] = elapsed > 0 ? sum(history, o - elapsed, o) : 0;
        }
        double[] w = weights(now, f, actual, used);
        boolean steady = steady(now, w);
        if (steady) {
            // every candidate fits a steady workload, and their rolling-origin errors differ more by chance than by
            // the noise of their level: the plain mean of the longest stretch has the least
            w = new double[Candidates.COUNT];
            w[Candidates.Kind.LONG_MEAN.ordinal()] = 1;
        }
        double[] path = new double[days];
        for (Candidates.Kind k : Candidates.Kind.values()) {
            if (w[k.ordinal()] > 0) {
                for (int d = 0; d < days; d++) {
                    path[d] += w[k.ordinal()] * now.byKind()[k.ordinal()][d];
                }
            }
        }
        boolean unjudged = w[Candidates.Kind.DECAY.ordinal()] > 0 && judged(f, Candidates.Kind.DECAY) < MIN_WEIGHT_ORIGINS;
        double trending = w[Candidates.Kind.TREND.ordinal()] + w[Candidates.Kind.STEADY_TREND.ordinal()]
                + (hw != null && hw.variant().trend() ? w[Candidates.Kind.HOLT_WINTERS.ordinal()] : 0);
        return new Result(path, w, now, ratios(w, f, actual, used), unjudged, trending, steady);
    }

    /**
     * Whether the forecast is the long mean alone: the workload tests steady ({@link Candidates.Paths#flat()}) and
     * the long mean's rolling-origin MSE is at most {@link #STEADY_MSE_RATIO} times the best candidate's (on a level
     * that wanders without a trend or a shift the long mean lags, and its past errors show it).
     */
    static boolean steady(Candidates.Paths now, double[] w) {
        double max = 0;
        for (double x : w) {
            max = Math.max(max, x);
        }
        // the weights are 1 / MSE², normalised: an MSE ratio of r is a weight ratio of 1 / r²
        return now.flat() && max > 0 && w[Candidates.Kind.LONG_MEAN.ordinal()] * STEADY_MSE_RATIO * STEADY_MSE_RATIO >= max;
    }

    private static double[] weights(Candidates.Paths now, double[][] f, double[] actual, double[] used) {
        double[] w = new double[Candidates.COUNT];
        double total = 0;
        for (Candidates.Kind k : Candidates.Kind.values()) {
            int j = k.ordinal();
            double se = 0;
            double weight = 0;
            int m = 0;
            for (int i = 0; i < f.length; i++) {
                double t = used[i] + actual[i];
                if (!Double.isNaN(f[i][j]) && t > 0) {
                    double e = (f[i][j] - actual[i]) / t;
                    double age = Math.pow(ORIGIN_DECAY, f.length - 1 - i);
                    se += age * e * e;
                    weight += age;
                    m++;
                }
            }
            if (k.judged && now.has(k) && m >= MIN_WEIGHT_ORIGINS) {
                double mse = Math.max(1e-6, se / weight);
                w[j] = 1 / (mse * mse); // sharper than inverse-MSE: a clearly better candidate should dominate
                total += w[j];
            }
        }
        int decay = Candidates.Kind.DECAY.ordinal();
        if (total > 0 && now.has(Candidates.Kind.DECAY) && w[decay] == 0) {
            // a launch too recent for its decay to have been judged at any origin: it counts as much as the
            // best judged candidate, since those were judged on days before the launch
            double max = 0;
            for (double x : w) {
                max = Math.max(max, x);
            }
            w[decay] = max;
            total += max;
        }
        if (total == 0) {
            // nothing to judge by yet: the level and the 14-day mean, equally (Candidates.Kind.blind)
            int k = 0;
            for (Candidates.Kind c : Candidates.Kind.values()) {
                k += c.blind && now.has(c) ? 1 : 0;
            }
            for (Candidates.Kind c : Candidates.Kind.values()) {
                w[c.ordinal()] = c.blind && now.has(c) ? 1.0 / k : 0;
            }
            return w;
        }
        for (int j = 0; j < w.length; j++) {
            w[j] /= total;
        }
        return w;
    }

    private static int judged(double[][] f, Candidates.Kind k) {
        int m = 0;
        for (double[] x : f) {
            m += Double.isNaN(x[k.ordinal()]) ? 0 : 1;
        }
        return m;
    }

    private static double[] ratios(double[] w, double[][] f, double[] actual, double[] used) {
        double[] r = new double[f.length];
        int m = 0;
        for (int i = 0; i < f.length; i++) {
            double fc = 0;
            double ws = 0;
            for (int j = 0; j < w.length; j++) {
                if (w[j] > 0 && !Double.isNaN(f[i][j])) {
                    fc += w[j] * f[i][j];
                    ws += w[j];
                }
            }
            if (ws > 0 && used[i] + fc > 0 && used[i] + actual[i] > 0) {
                r[m++] = (used[i] + actual[i]) / (used[i] + fc / ws);
            }
        }
        double[] out = Arrays.copyOf(r, m >= MIN_ORIGINS ? m : 0);
        Arrays.sort(out);
        return out;
    }

    static double sum(DailySeries s, int from, int to) {
        double t = 0;
        for (int i = Math.max(0, from); i < Math.min(s.size(), to); i++) {
            t += s.at(i);
        }
        return t;
    }
}
