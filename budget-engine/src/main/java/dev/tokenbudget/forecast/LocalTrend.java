package dev.tokenbudget.forecast;

import java.util.Arrays;

/**
 * The recent trend of a daily series: a Theil-Sen line through the logarithms of the
 * deseasonalised days (usage over the weekday factor) of the last weeks, since the last level
 * shift. The median of pairwise slopes ignores a burst or a missing day that a least-squares line
 * would follow; extrapolation is damped hard ({@link #DAMPING} per day: at most four days' worth of slope), so
 * the candidate is mostly the line's level at the last day, which follows growth without the lag
 * of an exponentially weighted level. Within two weeks after an upward shift the line is not
 * extrapolated at all: rising, it is the step itself; falling, a launch settling ({@link Decay}).
 *
 * @param logLevel log of the deseasonalised level on the last day, from the line
 * @param slope    growth per day in log terms (0.01: about +1 % a day)
 * @param points   days the line rests on
 */
record LocalTrend(double logLevel, double slope, int points) {

    static final int WINDOW = 28;
    static final double DAMPING = 0.8;
    private static final int MIN_POINTS = 6;
    private static final int AFTER_SHIFT = 14;

    static LocalTrend fit(DailySeries s, DailyModel m) {
        int n = s.size();
        int from = Math.max(0, n - WINDOW);
        boolean launch = false;
        if (!m.shifts().isEmpty()) {
            int shift = (int) java.time.temporal.ChronoUnit.DAYS.between(s.start(), m.shifts().get(m.shifts().size() - 1));
            if (shift > from && n - shift >= MIN_POINTS) {
                from = shift;
                launch = n - shift < AFTER_SHIFT && s.sum(s.dateAt(shift), s.end()) / (n - shift)
                        > s.sum(s.dateAt(Math.max(0, shift - 7)), s.dateAt(shift)) / (double) Math.min(7, shift);
            }
        }
        double[] t = new double[n - from];
        double[] v = new double[n - from];
        int k = 0;
        for (int i = from; i < n; i++) {
            double f = m.factor(s.dateAt(i).getDayOfWeek());
            if (s.at(i) > 0 && f >= 0.05) {
                t[k] = i - (n - 1);
                v[k] = Math.log(s.at(i) / f);
                k++;
            }
        }
        if (k < MIN_POINTS) {
            return new LocalTrend(m.level() > 0 ? Math.log(m.level()) : Double.NEGATIVE_INFINITY, 0, k);
        }
        double[] slopes = new double[k * (k - 1) / 2];
        int p = 0;
        for (int i = 0; i < k; i++) {
            for (int j = i + 1; j < k; j++) {
                slopes[p++] = (v[j] - v[i]) / (t[j] - t[i]);
            }
        }
        double b = median(slopes, p);
        if (launch) {
            // right after a rise the line is the step itself (the shift is dated from the start of the run that
            // raised it, before the step), or a launch settling, which Decay follows: neither is a trend
            return new LocalTrend(Math.log(m.level()), 0, 0);
        }
        double[] a = new double[k];
        for (int i = 0; i < k; i++) {
            a[i] = v[i] - b * t[i];
        }
        return new LocalTrend(median(a, k), b, k);
    }

    /** Expected deseasonalised level {@code k} days after the last (k = 1: the next day), with the log-normal mean correction. */
    double level(int k, double sigma) {
        double d = 0;
        double ph = 1;
        for (int j = 1; j <= k; j++) {
            ph *= DAMPING;
            d += ph;
        }
        return Math.exp(logLevel + slope * d + sigma * sigma / 2);
    }

    /** The trend in percent per 30 days. */
    double percentPerMonth() {
        return (Math.exp(slope * 30) - 1) * 100;
    }

    static double median(double[] x, int n) {
        double[] c = Arrays.copyOf(x, n);
        Arrays.sort(c);
        return n % 2 == 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    }
}
