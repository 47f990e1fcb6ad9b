package dev.tokenbudget.forecast;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * Bursts in a daily history: runs of at most {@link #MAX_DAYS} days, each more than
 * {@link #RATIO} times the median of the same weekday one to three weeks either side and 1.2 times
 * the median of the week before, that have
 * ended (usage is back to where it was before on the two days after). The models learn from the history with those
 * days set to that median, so a burst is not extrapolated over the rest of the window; a run still
 * going on at the end of the history is left alone (it may be a launch, which the level-shift
 * detector and the rolling-origin weights judge).
 *
 * @param cleaned    the history with burst days replaced
 * @param discounted the burst days, oldest first
 */
record Bursts(DailySeries cleaned, List<LocalDate> discounted) {

    static final int MAX_DAYS = 5;
    static final double RATIO = 2.0;

    static Bursts find(DailySeries s) {
        int n = s.size();
        double[] ref = new double[n];
        boolean[] high = new boolean[n];
        for (int i = 0; i < n; i++) {
            ref[i] = reference(s, i);
            high[i] = ref[i] > 0 && s.at(i) > RATIO * ref[i];
        }
        long[] v = null;
        List<LocalDate> days = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (!high[i]) {
                continue;
            }
            int j = i;
            while (j < n && high[j]) {
                j++;
            }
            if (j - i <= MAX_DAYS && aboveTheWeekBefore(s, i, j) && backToNormal(s, i, j)) {
                if (v == null) {
                    v = new long[n];
                    for (int k = 0; k < n; k++) {
                        v[k] = s.at(k);
                    }
                }
                for (int k = i; k < j; k++) {
                    v[k] = Math.round(ref[k]);
                    days.add(s.dateAt(k));
                }
            }
            i = j;
        }
        return new Bursts(v == null ? s : DailySeries.of(s.start(), v), List.copyOf(days));
    }

    /**
     * Whether the (up to) two days from {@code j} exist and are below 1.5 times the median of the
     * same weekday in the three weeks before the run began at {@code i}: back to where it was
     * before, not at a new level that a step up would have set.
     */
    private static boolean backToNormal(DailySeries s, int i, int j) {
        if (j >= s.size()) {
            return false;
        }
        for (int k = j; k < Math.min(s.size(), j + 2); k++) {
            double[] x = new double[3];
            int m = 0;
            for (int w = 1; w <= 3; w++) {
                int p = k - 7 * w;
                if (p >= 0 && p < i && s.at(p) > 0) {
                    x[m++] = s.at(p);
                }
            }
            if (m == 0 || s.at(k) > 1.5 * LocalTrend.median(x, m)) {
                return false;
            }
        }
        return true;
    }

    /** Whether every day of the run is 1.2 times the median of the 7 days before it: not a step seen late. */
    private static boolean aboveTheWeekBefore(DailySeries s, int i, int j) {
        if (i < 7) {
            return false;
        }
        double[] x = new double[7];
        for (int k = 0; k < 7; k++) {
            x[k] = s.at(i - 7 + k);
        }
        double m = LocalTrend.median(x, 7);
        for (int k = i; k < j; k++) {
            if (s.at(k) <= 1.2 * m) {
                return false;
            }
        }
        return true;
    }

    private static double reference(DailySeries s, int i) {
        double[] x = new double[6];
        int k = 0;
        for (int w = -3; w <= 3; w++) {
            int j = i + 7 * w;
            if (w != 0 && j >= 0 && j < s.size() && s.at(j) > 0) {
                x[k++] = s.at(j);
            }
        }
        return k < 2 ? 0 : LocalTrend.median(x, k);
    }
}
