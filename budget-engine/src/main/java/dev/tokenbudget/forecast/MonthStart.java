package dev.tokenbudget.forecast;

import java.time.LocalDate;

/**
 * A recurring lift (or dip) on the first days of each month (month-end batch jobs, invoicing
 * runs): per day of month 1 to 3, the median ratio of that day's usage to the same weekday in the
 * weeks around it, kept only when every month seen agrees on its direction and it is at least
 * 30 %. The models learn from the history with those days divided by their factor, and the
 * forecast multiplies them back in, so a month-start spike is neither extrapolated nor forgotten.
 *
 * @param factors factor of day of month 1, 2 and 3 (1: no effect)
 */
record MonthStart(double[] factors) {

    static final int DAYS = 3;
    private static final double MIN_EFFECT = 1.3;
    private static final MonthStart NONE = new MonthStart(new double[] {1, 1, 1});

    static MonthStart learn(DailySeries s) {
        double[] f = {1, 1, 1};
        boolean any = false;
        for (int dom = 1; dom <= DAYS; dom++) {
            double[] r = new double[s.size() / 28 + 1];
            int k = 0;
            for (int i = 0; i < s.size(); i++) {
                if (s.dateAt(i).getDayOfMonth() == dom) {
                    double ref = reference(s, i);
                    if (ref > 0 && k < r.length) {
                        r[k++] = s.at(i) / ref;
                    }
                }
            }
            if (k < 2) {
                continue;
            }
            double m = LocalTrend.median(r, k);
            boolean agree = true;
            for (int j = 0; j < k; j++) {
                agree &= m > 1 ? r[j] >= MIN_EFFECT : r[j] <= 1 / MIN_EFFECT;
            }
            if (agree && (m >= MIN_EFFECT || m <= 1 / MIN_EFFECT)) {
                f[dom - 1] = m;
                any = true;
            }
        }
        return any ? new MonthStart(f) : NONE;
    }

    /** Median of the same weekday one and two weeks either side, leaving out month-start days and empty days. */
    private static double reference(DailySeries s, int i) {
        double[] v = new double[4];
        int k = 0;
        for (int w : new int[] {-14, -7, 7, 14}) {
            int j = i + w;
            if (j >= 0 && j < s.size() && s.dateAt(j).getDayOfMonth() > DAYS && s.at(j) > 0) {
                v[k++] = s.at(j);
            }
        }
        return k == 0 ? 0 : LocalTrend.median(v, k);
    }

    boolean present() {
        return this != NONE && (factors[0] != 1 || factors[1] != 1 || factors[2] != 1);
    }

    double factor(LocalDate d) {
        return d.getDayOfMonth() <= DAYS ? factors[d.getDayOfMonth() - 1] : 1;
    }

    /** The history with each month-start day divided by its factor. */
    DailySeries adjust(DailySeries s) {
        if (!present()) {
            return s;
        }
        long[] v = new long[s.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.round(s.at(i) / factor(s.dateAt(i)));
        }
        return DailySeries.of(s.start(), v);
    }
}
