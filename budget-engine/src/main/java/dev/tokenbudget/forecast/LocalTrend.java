package dev.tokenbudget.forecast;

import java.util.Arrays;

/**
 * The recent trend of a daily series: a Theil-Sen line through the logarithms of the
 * deseasonalised days (usage over the weekday factor) of the last weeks, since the last level
 * shift. The median of pairwise slopes ignores a burst or a missing day that a least-squares line
 * would follow; extrapolation is damped hard ({@link #DAMPING} per day: at most four days' worth of slope), so
 * the candidate is mostly the line's level at the last day, which follows growth without the lag
 * of an exponentially weighted level. Within two weeks after an upward shift the line is not
 * extrapolated at all: rising, it is the step itself; falling, a launch settling ({@link Decay}). Within
 * the first days after a drop there is no line (too few days on the new level, and one across the step
 * reads it as a slope).
 *
 * @param logLevel log of the deseasonalised level on the last day, from the line
 * @param slope    growth per day in log terms (0.01: about +1 % a day)
 * @param points   days the line rests on
 * @param slopeError the slope's standard error (from the residuals' robust spread)
 * @param held     whether each half of the days rises (or falls) at least half as fast as the whole
 */
record LocalTrend(double logLevel, double slope, int points, double slopeError, boolean held) {

    static final int WINDOW = 28;
    static final double DAMPING = 0.8;
    private static final int MIN_POINTS = 6;
    private static final int AFTER_SHIFT = 14;
    /** Days of history the steady-trend line is fitted on (since the last shift), and the least it needs. */
    static final int STEADY_WINDOW = 90;
    static final int STEADY_POINTS = 42;
    static final double STEADY_Z = 3;

    static LocalTrend fit(DailySeries s, DailyModel m) {
        return fit(s, m, WINDOW);
    }

    static LocalTrend fit(DailySeries s, DailyModel m, int window) {
        int n = s.size();
        int from = Math.max(0, n - window);
        boolean launch = false;
        if (!m.shifts().isEmpty()) {
            int shift = (int) java.time.temporal.ChronoUnit.DAYS.between(s.start(), m.shifts().get(m.shifts().size() - 1));
            if (shift > from && n - shift < MIN_POINTS && !rose(s, shift)) {
                // a drop too recent for a line on the new level: a line across the step reads the step as a
                // slope, its level on the last day between the old level and the new (a rise may be a burst
                // still going on, which the line across it rightly ignores)
                return new LocalTrend(m.level() > 0 ? Math.log(m.level()) : Double.NEGATIVE_INFINITY, 0, 0,
                        Double.POSITIVE_INFINITY, false);
            }
            if (shift > from && n - shift >= MIN_POINTS) {
                from = shift;
                launch = n - shift < AFTER_SHIFT && rose(s, shift);
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
            return new LocalTrend(m.level() > 0 ? Math.log(m.level()) : Double.NEGATIVE_INFINITY, 0, k, Double.POSITIVE_INFINITY, false);
        }
        double b = theilSen(t, v, 0, k);
        // the trend held when each half of the days rises (or falls) at least half as fast as the whole: a step
        // between two flat stretches, or growth that stopped, does not
        boolean held = theilSen(t, v, 0, k / 2) / b >= 0.5 && theilSen(t, v, k / 2, k) / b >= 0.5;
        if (launch) {
            // right after a rise the line is the step itself (the shift is dated from the start of the run that
            // raised it, before the step), or a launch settling, which Decay follows: neither is a trend
            return new LocalTrend(Math.log(m.level()), 0, 0, Double.POSITIVE_INFINITY, false);
        }
        double[] a = new double[k];
        for (int i = 0; i < k; i++) {
            a[i] = v[i] - b * t[i];
        }
        double level = median(a, k);
        double[] dev = new double[k];
        double tm = 0;
        for (int i = 0; i < k; i++) {
            tm += t[i] / k;
        }
        double stt = 0;
        for (int i = 0; i < k; i++) {
            dev[i] = Math.abs(a[i] - level);
            stt += (t[i] - tm) * (t[i] - tm);
        }
        // the slope's standard error as for a least-squares line, with the residuals' robust spread
        double spread = 1.4826 * median(dev, k);
        return new LocalTrend(level, b, k, spread / Math.sqrt(stt), held);
    }

    /** Whether the days since {@code shift} are above, on average, the (up to) 7 days before it. */
    private static boolean rose(DailySeries s, int shift) {
        int n = s.size();
        return s.sum(s.dateAt(shift), s.end()) / (n - shift)
                > s.sum(s.dateAt(Math.max(0, shift - 7)), s.dateAt(shift)) / (double) Math.min(7, shift);
    }

    private static double theilSen(double[] t, double[] v, int from, int to) {
        double[] slopes = new double[(to - from) * (to - from - 1) / 2];
        int p = 0;
        for (int i = from; i < to; i++) {
            for (int j = i + 1; j < to; j++) {
                slopes[p++] = (v[j] - v[i]) / (t[j] - t[i]);
            }
        }
        return medianInPlace(slopes, p);
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

    /**
     * Expected deseasonalised level {@code k} days after the last along the line, undamped: the steady-trend
     * candidate, offered only where the trend {@link #steady() is steady}.
     */
    double undampedLevel(int k, double sigma) {
        return Math.exp(logLevel + slope * k + sigma * sigma / 2);
    }

    /**
     * Whether the line is a trend that held over its days: at least {@link #STEADY_POINTS} days, a slope of at
     * least {@link #STEADY_Z} standard errors, and each half of the days rising (or falling) at least half as
     * fast as the whole.
     */
    boolean steady() {
        return points >= STEADY_POINTS && slope != 0 && held && Math.abs(slope) >= STEADY_Z * slopeError;
    }

    /** The trend in percent per 30 days. */
    double percentPerMonth() {
        return (Math.exp(slope * 30) - 1) * 100;
    }

    static double median(double[] x, int n) {
        return medianInPlace(Arrays.copyOf(x, n), n);
    }

    /**
     * The median of {@code x[0, n)}, exact, reordering {@code x}: a selection rather than a sort, since
     * the steady trend takes the median of some 4,000 pairwise slopes at each of up to 40 origins.
     */
    static double medianInPlace(double[] x, int n) {
        if (n <= SORT_BELOW) {
            Arrays.sort(x, 0, n);
            return n % 2 == 1 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
        }
        int mid = n / 2;
        double upper = select(x, n, mid);
        if (n % 2 == 1) {
            return upper;
        }
        // the selection leaves x[0, mid) no greater than x[mid]: the lower middle is their largest
        double lower = x[0];
        for (int i = 1; i < mid; i++) {
            lower = Math.max(lower, x[i]);
        }
        return (lower + upper) / 2;
    }

    private static final int SORT_BELOW = 64;

    /**
     * The {@code k}-th smallest of {@code x[0, n)} (from 0), leaving every value before it no greater
     * and every value after it no smaller: Hoare partitions around the median of three, falling back
     * to sorting the part left when the partitions stop halving it.
     */
    private static double select(double[] x, int n, int k) {
        int lo = 0;
        int hi = n - 1;
        int rounds = 2 * (32 - Integer.numberOfLeadingZeros(n)) + 8;
        while (hi > lo) {
            if (rounds-- == 0) {
                Arrays.sort(x, lo, hi + 1);
                return x[k];
            }
            double a = x[lo];
            double b = x[(lo + hi) >>> 1];
            double c = x[hi];
            double pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (x[i] < pivot) {
                    i++;
                }
                while (x[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    double t = x[i];
                    x[i++] = x[j];
                    x[j--] = t;
                }
            }
            // x[lo, j] <= pivot <= x[i, hi], and what lies between equals the pivot
            if (k <= j) {
                hi = j;
            } else if (k >= i) {
                lo = i;
            } else {
                return x[k];
            }
        }
        return x[k];
    }
}
