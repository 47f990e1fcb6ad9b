package dev.tokenbudget.forecast;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the forecaster learned from a daily series: a weekday factor per day of the week, the
 * current deseasonalised daily level, the relative day-to-day noise, how uncertain the level is,
 * and the level shifts it detected. Fitting is pure and deterministic; see docs/forecast.md.
 *
 * <p>Two passes: weekday factors from each day's ratio to the 7-day mean around it (decayed by
 * age, shrunk towards 1 while few weeks are known); then an exponentially weighted level on the
 * deseasonalised days, watched by a two-sided CUSUM on standardised residuals. When the CUSUM
 * alarms, the level restarts from the days since the shift began; the second pass recomputes the
 * factors without the days around each shift, which would otherwise blur them.
 */
public final class DailyModel {

    /** How much the model knows. */
    public enum Stage {
        /** No usage yet: nothing to learn from. */
        NO_HISTORY,
        /** Fewer than 7 days of usage: a flat level, no weekday factors, wide bands. */
        FLAT,
        /** Weekday factors and a level. */
        WEEKDAY
    }

    private final Stage stage;
    private final double[] factors;
    private final double level;
    private final double sigma;
    private final double levelSigma;
    private final int days;
    private final int daysSinceShift;
    private final double jumpVariance;
    private final List<LocalDate> shifts;
    private final ForecastParams params;

    private DailyModel(Stage stage, double[] factors, double level, double sigma, double levelSigma, int days,
                       int daysSinceShift, double jumpVariance, List<LocalDate> shifts, ForecastParams params) {
        this.stage = stage;
        this.factors = factors;
        this.level = level;
        this.sigma = sigma;
        this.levelSigma = levelSigma;
        this.days = days;
        this.daysSinceShift = daysSinceShift;
        this.jumpVariance = jumpVariance;
        this.shifts = List.copyOf(shifts);
        this.params = params;
    }

    /** Fits with the default parameters. */
    public static DailyModel fit(DailySeries series) {
        return fit(series, ForecastParams.DEFAULTS);
    }

    public static DailyModel fit(DailySeries series, ForecastParams p) {
        int first = 0;
        while (first < series.size() && series.at(first) == 0) {
            first++; // days before a budget's first usage say nothing about it
        }
        int n = series.size() - first;
        double[] ones = new double[7];
        Arrays.fill(ones, 1.0);
        if (n == 0) {
            return new DailyModel(Stage.NO_HISTORY, ones, 0, p.priorSigma(), 1, 0, 0, 0, List.of(), p);
        }
        double[] y = new double[n];
        int[] dow = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = series.at(first + i);
            dow[i] = series.dateAt(first + i).getDayOfWeek().getValue() - 1;
        }
        boolean weekly = n >= 7;
        boolean[] excluded = new boolean[n];
        double[] s = weekly ? factors(y, dow, excluded, p) : ones;
        Level lv = new Level(y, dow, s, p).run();
        if (weekly && !lv.shifts.isEmpty()) {
            for (int c : lv.shifts) {
                for (int i = Math.max(0, c - 3); i <= Math.min(n - 1, c + 3); i++) {
                    excluded[i] = true;
                }
            }
            s = factors(y, dow, excluded, p);
            lv = new Level(y, dow, s, p).run();
        }
        List<LocalDate> shiftDates = new ArrayList<>();
        for (int c : lv.shifts) {
            shiftDates.add(series.dateAt(first + c));
        }
        double wander = weekly ? wander(y, dow, s, lv, p) : 0;
        return new DailyModel(weekly ? Stage.WEEKDAY : Stage.FLAT, s, lv.level, lv.sigma(), lv.levelSigma(), n,
                lv.count, lv.jumpSquares / n + wander, shiftDates, p);
    }

    /**
     * Weekday factors: each day's ratio to the mean of a 7-day block around it, weighted by
     * {@code weekDecay^(age in weeks)}, shrunk towards 1 (geometrically) while fewer than
     * {@code factorShrink} weeks' weight is known, normalised to mean 1.
     */
    private static double[] factors(double[] y, int[] dow, boolean[] excluded, ForecastParams p) {
        int n = y.length;
        double[] sum = new double[7];
        double[] weight = new double[7];
        double[] sq = new double[7];
        double[] weight2 = new double[7];
        double[] prefix = new double[n + 1];
        for (int i = 0; i < n; i++) {
            prefix[i + 1] = prefix[i] + y[i];
        }
        for (int t = 0; t < n; t++) {
            if (excluded[t]) {
                continue;
            }
            int a = Math.max(0, Math.min(t - 3, n - 7));
            double mean = (prefix[a + 7] - prefix[a]) / 7;
            if (mean <= 0) {
                continue;
            }
            double w = Math.pow(p.weekDecay(), (n - 1 - t) / 7.0);
            double r = y[t] / mean;
            sum[dow[t]] += w * r;
            sq[dow[t]] += w * r * r;
            weight[dow[t]] += w;
            weight2[dow[t]] += w * w;
        }
        double keep = significance(sum, sq, weight, weight2);
        double[] f = new double[7];
        double total = 0;
        for (int d = 0; d < 7; d++) {
            double raw = weight[d] > 0 ? sum[d] / weight[d] : 1;
            // shrink in log space: a weekday that never sees usage keeps its factor 0
            f[d] = Math.pow(raw, keep * Math.min(1, weight[d] / p.factorShrink()));
            total += f[d];
        }
        for (int d = 0; d < 7; d++) {
            f[d] = total > 0 ? f[d] * 7 / total : 1;
        }
        return f;
    }

    /** Degrees of freedom of the within-weekday spread below which the pattern is not tested. */
    static final double MIN_NOISE_DOF = 3;

    /**
     * How much of the weekday pattern to keep (James-Stein): 1 less the share of the spread between
     * the weekdays' mean ratios that the spread of each weekday's ratios over the weeks explains
     * (the noise of those means). 0 when the weekdays differ no more than noise makes them; 1 when
     * the within-weekday spread rests on too few repeated weekdays to tell (the cold-start pull
     * towards 1 then does the shrinking).
     */
    private static double significance(double[] sum, double[] sq, double[] weight, double[] weight2) {
        double within = 0;
        double dof = 0;
        for (int d = 0; d < 7; d++) {
            if (weight[d] > 0) {
                double m = sum[d] / weight[d];
                within += Math.max(0, sq[d] - weight[d] * m * m);
                dof += weight[d] - weight2[d] / weight[d];
            }
        }
        if (dof < MIN_NOISE_DOF) {
            return 1;
        }
        double s2 = within / dof;
        double between = 0;
        double noise = 0;
        for (int d = 0; d < 7; d++) {
            if (weight[d] > 0) {
                double m = sum[d] / weight[d];
                between += (m - 1) * (m - 1);
                noise += s2 * weight2[d] / (weight[d] * weight[d]);
            }
        }
        return between <= 0 ? 0 : Math.max(0, 1 - noise / between);
    }

    /**
     * How much the level wanders per day beyond the noise, measured: the variance of the relative
     * change between consecutive weekly means of the deseasonalised days, less what day noise
     * explains (2 sigma^2 / 7), spread over the 7 days between them. Week pairs that straddle a
     * detected shift are left out (jumps are counted apart).
     */
    private static double wander(double[] y, int[] dow, double[] s, Level lv, ForecastParams p) {
        int n = y.length;
        List<Double> means = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        for (int end = n; end - 7 >= 0 && means.size() < 13; end -= 7) {
            double sum = 0;
            int k = 0;
            for (int i = end - 7; i < end; i++) {
                if (s[dow[i]] >= Level.MIN_FACTOR) {
                    sum += y[i] / s[dow[i]];
                    k++;
                }
            }
            means.add(k > 0 ? sum / k : 0);
            starts.add(end - 7);
        }
        double sq = 0;
        int pairs = 0;
        for (int i = 0; i + 1 < means.size(); i++) {
            int from = starts.get(i + 1);
            int to = starts.get(i) + 7;
            boolean straddles = lv.shifts.stream().anyMatch(c -> c > from && c < to);
            double older = means.get(i + 1);
            if (straddles || older <= 0) {
                continue;
            }
            double d = means.get(i) / older - 1;
            sq += d * d;
            pairs++;
        }
        if (pairs < 3) {
            return 0;
        }
        double sg = lv.sigma();
        return Math.max(0, (sq / pairs - 2 * sg * sg / 7) / 7);
    }

    /** The sequential level filter with its CUSUM shift detector. */
    private static final class Level {
        private static final double MIN_FACTOR = 0.05;
        final double[] y;
        final int[] dow;
        final double[] s;
        final ForecastParams p;
        final List<Integer> shifts = new ArrayList<>();
        double level = Double.NaN;
        int count;
        double meanAbs;
        int residuals;
        double jumpSquares;

        Level(double[] y, int[] dow, double[] s, ForecastParams p) {
            this.y = y;
            this.dow = dow;
            this.s = s;
            this.p = p;
        }

        double sigma() {
            // blend the measured noise with a prior worth a few days, so that the first days stay wide
            double est = 1.2533 * meanAbs;
            double n0 = p.priorDays();
            double v = (n0 * p.priorSigma() * p.priorSigma() + residuals * est * est) / (n0 + residuals);
            return Math.max(p.minSigma(), Math.sqrt(v));
        }

        double levelSigma() {
            double a = p.alpha();
            double sg = sigma();
            return sg * Math.sqrt(Math.max(a / (2 - a), 1.0 / Math.max(1, count)));
        }

        Level run() {
            double sp = 0;
            double sn = 0;
            int runP = -1;
            int runN = -1;
            for (int t = 0; t < y.length; t++) {
                double f = s[dow[t]];
                if (f < MIN_FACTOR) {
                    continue;
                }
                double z = y[t] / f;
                if (count == 0) {
                    level = z;
                    count = 1;
                    continue;
                }
                double sg = sigma();
                double r = level > 0 ? z / level - 1 : (z > 0 ? p.huber() * sg : 0);
                double u = Math.max(-p.huber(), Math.min(p.huber(), r / sg));
                if (sp <= 0 && u - p.cusumK() > 0) {
                    runP = t;
                }
                sp = Math.max(0, sp + u - p.cusumK());
                if (sn <= 0 && -u - p.cusumK() > 0) {
                    runN = t;
                }
                sn = Math.max(0, sn - u - p.cusumK());
                if (sp > p.cusumH() || sn > p.cusumH()) {
                    int c = sp > p.cusumH() ? runP : runN;
                    restartAt(c, t);
                    sp = 0;
                    sn = 0;
                    continue;
                }
                double rc = Math.max(-p.huber() * sg, Math.min(p.huber() * sg, r));
                double a = Math.max(p.alpha(), 1.0 / (count + 1));
                level += a * (level * (1 + rc) - level);
                count++;
                double absR = Math.min(Math.abs(r), p.huber() * sg);
                residuals++;
                meanAbs += (absR - meanAbs) / Math.min(residuals, p.noiseWindow());
            }
            return this;
        }

        /** A shift began at day {@code c}: the level restarts as the mean of the days since. */
        private void restartAt(int c, int t) {
            double[] z = new double[t - c + 1];
            int k = 0;
            for (int i = c; i <= t; i++) {
                double f = s[dow[i]];
                if (f >= MIN_FACTOR) {
                    z[k++] = y[i] / f;
                }
            }
            if (k == 0) {
                return;
            }
            // the median: one spike among the first days of a shift must not set the new level
            Arrays.sort(z, 0, k);
            double fresh = k % 2 == 1 ? z[k / 2] : (z[k / 2 - 1] + z[k / 2]) / 2;
            if (level > 0) {
                double jump = Math.max(-1, Math.min(3, fresh / level - 1));
                jumpSquares += jump * jump;
            }
            level = fresh;
            count = k;
            shifts.add(c);
        }
    }

    public Stage stage() {
        return stage;
    }

    /** The weekday factor (mean 1 over the week): usage on that day relative to the level. */
    public double factor(DayOfWeek d) {
        return factors[d.getValue() - 1];
    }

    /** Deseasonalised daily level in tokens (a day with factor 1 is expected to use this much). */
    public double level() {
        return level;
    }

    /** Expected usage on {@code day}. */
    public double expected(LocalDate day) {
        return level * factor(day.getDayOfWeek());
    }

    /** Relative standard deviation of one day's usage around its expectation. */
    public double sigma() {
        return sigma;
    }

    /** Relative standard deviation of the level estimate. */
    public double levelSigma() {
        return levelSigma;
    }

    /** Days of usage the model learned from (from the first day with usage). */
    public int days() {
        return days;
    }

    /** Days the current level rests on (since the last detected shift, or all). */
    public int daysSinceShift() {
        return daysSinceShift;
    }

    /**
     * Variance per day of the level's relative moves: the squared jumps of detected shifts over
     * the days learned from, plus the measured wander between weeks. Used to widen the bands
     * the further ahead a day lies.
     */
    public double jumpVariance() {
        return jumpVariance;
    }

    /** First days of each detected level shift, oldest first. */
    public List<LocalDate> shifts() {
        return shifts;
    }

    ForecastParams params() {
        return params;
    }

    @Override
    public String toString() {
        return "DailyModel[" + stage + " level=" + Math.round(level) + " sigma=" + String.format("%.3f", sigma)
                + " days=" + days + " shifts=" + shifts + "]";
    }
}
