package dev.tokenbudget.forecast;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * Bursts in a daily history: runs of at most {@link #MAX_DAYS} days, each more than
 * {@link #RATIO} times the median of the same weekday one to three weeks either side, that have
 * ended (usage is back to normal the day after). The models learn from the history with those
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
            if (j - i <= MAX_DAYS && backToNormal(s, ref, j)) {
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

    /** Whether the (up to) two days from {@code j} exist and are below 1.5 times their reference. */
    private static boolean backToNormal(DailySeries s, double[] ref, int j) {
        if (j >= s.size()) {
            return false;
        }
        for (int k = j; k < Math.min(s.size(), j + 2); k++) {
            if (ref[k] <= 0 || s.at(k) > 1.5 * ref[k]) {
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
