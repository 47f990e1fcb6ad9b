package dev.tokenbudget.forecast;

import java.time.temporal.ChronoUnit;

/**
 * Post-launch decay: after an upward level shift, a deseasonalised level that keeps falling is a
 * launch settling, which neither a flat level (too high) nor a trend line (falling for ever)
 * projects well. Fitted as {@code floor + e^(a + b·t)} on the days since the shift: for each floor
 * on a grid between the level before the shift and the recent days, a Theil-Sen line through
 * {@code log(usage / factor − floor)}; the floor with the smallest squared error wins. None when
 * the level since the shift is not falling.
 *
 * @param floor    the level the launch settles to, deseasonalised, tokens a day
 * @param logScale log of the excess over the floor on the shift's day
 * @param rate     decay per day in log terms (negative)
 * @param age      days from the shift to the last day of the history
 * @param before   the deseasonalised level before the shift
 */
record Decay(double floor, double logScale, double rate, int age, double before) {

    private static final int MIN_DAYS = 4;
    private static final int MAX_DAYS = 60;
    private static final double MIN_LIFT = 1.3;

    /** The fit, or null when the history has no recent upward shift followed by a falling level. */
    static Decay fit(DailySeries s, DailyModel m) {
        if (m.shifts().isEmpty()) {
            return null;
        }
        int n = s.size();
        int shift = (int) ChronoUnit.DAYS.between(s.start(), m.shifts().get(m.shifts().size() - 1));
        int age = n - shift;
        if (shift < 7 || age < MIN_DAYS || age > MAX_DAYS) {
            return null;
        }
        double[] x = new double[age];
        for (int i = 0; i < age; i++) {
            x[i] = deseasonalised(s, m, shift + i);
        }
        double[] pre = new double[Math.min(14, shift)];
        for (int i = 0; i < pre.length; i++) {
            pre[i] = deseasonalised(s, m, shift - 1 - i);
        }
        double before = LocalTrend.median(pre, pre.length);
        int head = Math.min(5, age);
        double first = LocalTrend.median(java.util.Arrays.copyOfRange(x, 0, head), head);
        double last = LocalTrend.median(java.util.Arrays.copyOfRange(x, age - head, age), head);
        if (before <= 0 || first < MIN_LIFT * before || last > 0.95 * first) {
            return null;
        }
        Decay best = null;
        double bestSse = Double.MAX_VALUE;
        for (int g = 0; g <= 9; g++) {
            double floor = before + g / 10.0 * (Math.min(last, first) - before);
            double[] t = new double[age];
            double[] v = new double[age];
            int k = 0;
            for (int i = 0; i < age; i++) {
                double e = x[i] - floor;
                if (e > 0.02 * first) {
                    t[k] = i;
                    v[k] = Math.log(e);
                    k++;
                }
            }
            if (k < MIN_DAYS) {
                continue;
            }
            double[] slopes = new double[k * (k - 1) / 2];
            int p = 0;
            for (int i = 0; i < k; i++) {
                for (int j = i + 1; j < k; j++) {
                    slopes[p++] = (v[j] - v[i]) / (t[j] - t[i]);
                }
            }
            double b = LocalTrend.median(slopes, p);
            if (b >= 0) {
                continue;
            }
            double[] a = new double[k];
            for (int i = 0; i < k; i++) {
                a[i] = v[i] - b * t[i];
            }
            double a0 = LocalTrend.median(a, k);
            double sse = 0;
            for (int i = 0; i < age; i++) {
                double r = x[i] - floor - Math.exp(a0 + b * i);
                sse += r * r;
            }
            if (sse < bestSse) {
                bestSse = sse;
                best = new Decay(floor, a0, b, age, before);
            }
        }
        return best;
    }

    /** Expected deseasonalised level {@code k} days after the last day of the history (k = 1: the next day). */
    double level(int k) {
        return floor + Math.exp(logScale + rate * (age - 1 + k));
    }

    /** Days for the excess over the floor to halve. */
    double halfLife() {
        return Math.log(2) / -rate;
    }

    private static double deseasonalised(DailySeries s, DailyModel m, int i) {
        double f = m.factor(s.dateAt(i).getDayOfWeek());
        return f >= 0.05 ? s.at(i) / f : 0;
    }
}
