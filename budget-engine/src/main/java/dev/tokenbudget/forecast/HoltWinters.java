package dev.tokenbudget.forecast;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Holt-Winters exponential smoothing with an optional damped additive trend and an optional
 * weekly season (additive or multiplicative), additive errors: the reference a careful analyst
 * would use. {@link #select} fits every variant the data allow (a season needs two weeks) by least
 * squares of the one-step errors and keeps the one with the smallest AICc; the damping φ is
 * bounded to [0.8, 0.98] so that no trend is extrapolated undamped. As the forecaster's candidate it can restart its
 * level at level shifts found by other means ({@link #select(double[], int[])}). Pure and deterministic.
 */
public final class HoltWinters {

    static final int PERIOD = 7;
    static final double PHI_MIN = 0.8;
    static final double PHI_MAX = 0.98;

    private static final double[] ALPHAS = {0.05, 0.15, 0.3, 0.5, 0.8};
    private static final double[] BETAS = {0.01, 0.05, 0.15, 0.3};
    private static final double[] GAMMAS = {0.01, 0.1, 0.25, 0.4};
    private static final double[] PHIS = {0.8, 0.9, 0.98};
    private static final int[] NO_RESTARTS = {};

    /** Days after a restart whose median is the new level, and whose one-step errors the fit leaves out. */
    static final int RESTART_DAYS = 7;

    /** Weekly season, if any. */
    public enum Season { NONE, ADDITIVE, MULTIPLICATIVE }

    /** Which model: damped trend or none, and the season. */
    public record Variant(boolean trend, Season season) {
    }

    /** Smoothing of level, trend (relative to the level's change), season, and the damping. */
    public record Params(double alpha, double beta, double gamma, double phi) {
    }

    /** A fitted model: its final states, sum of squared one-step errors over the {@code n} days fitted, and AICc. */
    public record Fit(Variant variant, Params params, double level, double slope, double[] season, int next,
                      double sse, int n, double aicc) {

        /** The forecast {@code h} days after the last day fitted (h = 1: the next day); never negative. */
        public double forecast(int h) {
            double damp = 0;
            double p = 1;
            for (int k = 1; k <= h; k++) {
                p *= params.phi();
                damp += p;
            }
            double base = level + (variant.trend() ? damp * slope : 0);
            double s = season[(next + h - 1) % PERIOD];
            double v = switch (variant.season()) {
                case NONE -> base;
                case ADDITIVE -> base + s;
                case MULTIPLICATIVE -> base * s;
            };
            return Math.max(0, v);
        }

        /** Sum of the forecasts of days {@code from}..{@code to} ahead (inclusive). */
        public double sum(int from, int to) {
            double s = 0;
            for (int h = from; h <= to; h++) {
                s += forecast(h);
            }
            return s;
        }
    }

    private HoltWinters() {
    }

    /** The variant with the smallest AICc among those the data allow; null for fewer than 3 days. */
    public static Fit select(double[] y) {
        return select(y, NO_RESTARTS);
    }

    /**
     * As {@link #select(double[])}, with the level restarting at each of {@code restarts} (indices into {@code y},
     * ascending: level shifts found by other means) as {@link #run(double[], Variant, Params, int[])} does, so that
     * the smoothing is fitted to the workload between the shifts rather than to the steps.
     */
    static Fit select(double[] y, int[] restarts) {
        if (y.length < 3) {
            return null;
        }
        List<Variant> variants = new ArrayList<>();
        for (Season s : Season.values()) {
            if (s == Season.NONE || y.length >= 2 * PERIOD) {
                variants.add(new Variant(false, s));
                variants.add(new Variant(true, s));
            }
        }
        Fit best = null;
        for (Variant v : variants) {
            Fit f = estimate(y, v, restarts);
            if (f != null && (best == null || f.aicc() < best.aicc())) {
                best = f;
            }
        }
        return best;
    }

    /** Least-squares parameters of one variant: a grid, then coordinate steps that halve. */
    static Fit estimate(double[] y, Variant v, int[] restarts) {
        Fit best = null;
        for (double a : ALPHAS) {
            for (double b : v.trend() ? BETAS : new double[] {0}) {
                for (double g : v.season() != Season.NONE ? GAMMAS : new double[] {0}) {
                    if (g > 1 - a) {
                        continue;
                    }
                    for (double p : v.trend() ? PHIS : new double[] {1}) {
                        Fit f = run(y, v, new Params(a, b, g, p), restarts);
                        if (best == null || f.sse() < best.sse()) {
                            best = f;
                        }
                    }
                }
            }
        }
        double step = 0.05;
        for (int round = 0; round < 4; round++, step /= 2) {
            for (int k = 0; k < 4; k++) {
                if (k == 1 && !v.trend() || k == 2 && v.season() == Season.NONE || k == 3 && !v.trend()) {
                    continue;
                }
                for (double d : new double[] {-step, step}) {
                    Params q = nudge(best.params(), k, d);
                    if (q != null) {
                        Fit f = run(y, v, q, restarts);
                        if (f.sse() < best.sse()) {
                            best = f;
                        }
                    }
                }
            }
        }
        return Double.isFinite(best.aicc()) ? best : null;
    }

    private static Params nudge(Params p, int k, double d) {
        double a = p.alpha() + (k == 0 ? d : 0);
        double b = p.beta() + (k == 1 ? d : 0);
        double g = p.gamma() + (k == 2 ? d : 0);
        double f = p.phi() + (k == 3 ? d : 0);
        boolean ok = a >= 0.01 && a <= 0.99 && b >= 0 && b < 1 && g >= 0 && g <= 1 - a
                && (k != 3 || f >= PHI_MIN - 1e-9 && f <= PHI_MAX + 1e-9);
        return ok ? new Params(a, b, g, f) : null;
    }

    /** Runs the recursions with fixed parameters over {@code y}. */
    public static Fit run(double[] y, Variant v, Params p) {
        return run(y, v, p, NO_RESTARTS);
    }

    /**
     * As {@link #run(double[], Variant, Params)}, with the level restarting at each index of {@code restarts}
     * (ascending): there it becomes the median of the next {@link #RESTART_DAYS} deseasonalised days (those the
     * series has), the trend 0, and the one-step errors of those days are left out of the fit. Without restarts a
     * step is absorbed by the smoothing, and the least squares choose a level that follows the last few days and a
     * trend that the step kicked: after the step, on a calm workload, both extrapolate noise.
     */
    static Fit run(double[] y, Variant v, Params p, int[] restarts) {
        int n = y.length;
        boolean seasonal = v.season() != Season.NONE;
        double[] s = new double[PERIOD];
        double l;
        double b = 0;
        if (seasonal) {
            l = mean(y, 0, PERIOD);
            if (v.trend()) {
                b = (mean(y, PERIOD, 2 * PERIOD) - l) / PERIOD;
            }
            for (int i = 0; i < PERIOD; i++) {
                s[i] = v.season() == Season.ADDITIVE ? y[i] - l : l > 0 ? y[i] / l : 1;
            }
        } else {
            l = y[0];
            java.util.Arrays.fill(s, v.season() == Season.MULTIPLICATIVE ? 1 : 0);
        }
        double phi = v.trend() ? p.phi() : 0;
        double sse = 0;
        int fitted = 0;
        int next = 0;
        int unfittedUntil = 0;
        for (int t = 0; t < n; t++) {
            int i = t % PERIOD;
            while (next < restarts.length && restarts[next] < t) {
                next++;
            }
            if (t > 0 && next < restarts.length && restarts[next] == t) {
                unfittedUntil = Math.min(n, t + RESTART_DAYS);
                l = restartLevel(y, v.season(), s, t, unfittedUntil);
                b = 0;
            }
            double base = l + phi * b;
            double fc = switch (v.season()) {
                case NONE -> base;
                case ADDITIVE -> base + s[i];
                case MULTIPLICATIVE -> base * s[i];
            };
            if (t >= unfittedUntil) {
                double e = y[t] - fc;
                sse += e * e;
                fitted++;
            }
            double deseason = switch (v.season()) {
                case NONE -> y[t];
                case ADDITIVE -> y[t] - s[i];
                case MULTIPLICATIVE -> s[i] > 1e-9 ? y[t] / s[i] : base;
            };
            double nl = p.alpha() * deseason + (1 - p.alpha()) * base;
            if (v.trend()) {
                b = p.beta() * (nl - l) + (1 - p.beta()) * phi * b;
            }
            if (v.season() == Season.ADDITIVE) {
                s[i] = p.gamma() * (y[t] - nl) + (1 - p.gamma()) * s[i];
            } else if (v.season() == Season.MULTIPLICATIVE && nl > 1e-9) {
                s[i] = p.gamma() * (y[t] / nl) + (1 - p.gamma()) * s[i];
            }
            l = nl;
        }
        // parameters: the smoothing ones, the initial level and slope, six free season states, sigma
        int k = 1 + 1 + (v.trend() ? 3 : 0) + (seasonal ? 1 + PERIOD - 1 : 0) + 1;
        double aicc = fitted - k - 1 > 0 && sse > 0
                ? fitted * Math.log(sse / fitted) + 2 * k + 2.0 * k * (k + 1) / (fitted - k - 1)
                : fitted - k - 1 > 0 ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        Params used = new Params(p.alpha(), v.trend() ? p.beta() : 0, seasonal ? p.gamma() : 0,
                v.trend() ? p.phi() : 1);
        return new Fit(v, used, l, b, s, n % PERIOD, sse, fitted, aicc);
    }

    /** The median of days {@code from} to {@code to} (exclusive), the season taken out. */
    private static double restartLevel(double[] y, Season season, double[] s, int from, int to) {
        double[] z = new double[to - from];
        for (int j = from; j < to; j++) {
            double f = s[j % PERIOD];
            z[j - from] = switch (season) {
                case NONE -> y[j];
                case ADDITIVE -> y[j] - f;
                case MULTIPLICATIVE -> f > 1e-9 ? y[j] / f : y[j];
            };
        }
        Arrays.sort(z);
        int k = z.length;
        return k % 2 == 1 ? z[k / 2] : (z[k / 2 - 1] + z[k / 2]) / 2;
    }

    private static double mean(double[] y, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += y[i];
        }
        return s / (to - from);
    }
}
