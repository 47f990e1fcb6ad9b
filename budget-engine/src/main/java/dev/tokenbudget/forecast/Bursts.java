package dev.tokenbudget.forecast;

import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
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
 * <p>Gaps are set to the same median: runs of at most {@link #MAX_DAYS} days without usage, after usage
 * began, on weekdays that had usage on the same weekday one to three weeks either side (at most one of
 * those without). Those are outages (of the collector, of the service), not the level: taken as the
 * level, a gap at the end of the history read as a drop to nothing (a level shift to 0 and a window
 * projected at a quarter of its total). Unlike a burst, a gap still going on at the end of the history is
 * filled too; a longer one is a workload that stopped, which the level-shift detector follows.
 *
 * @param cleaned    the history with burst and gap days replaced
 * @param discounted the burst days, oldest first
 * @param gaps       the gap days, oldest first
 * @param burstShare the usage the ended bursts added, as a share of the cleaned usage since usage began, once
 *                   at least {@link #MIN_RUNS} bursts were seen (else 0): a burst is not extrapolated, but
 *                   recurring bursts come back at the rate seen
 * @param quietDays  days ahead before the next burst is expected: the shortest time seen from one burst's
 *                   start to the next, less the time since the last one began (0 when none is expected)
 * @param eventVariance the mean squared relative difference between a day and its cleaned value (a gap: 1;
 *                   a burst, once recurring: its squared lift), since usage began: the variance per day ahead
 *                   of the outages and bursts to come, which the level's noise leaves out
 */
record Bursts(DailySeries cleaned, List<LocalDate> discounted, List<LocalDate> gaps, double burstShare,
              int quietDays, double eventVariance) {

    static final int MAX_DAYS = 5;
    static final double RATIO = 2.0;
    /** Bursts seen in the history before they are expected to recur: about one a month. */
    static final int MIN_RUNS = 3;

    static Bursts find(DailySeries s) {
        int n = s.size();
        double[] ref = new double[n];
        boolean[] high = new boolean[n];
        for (int i = 0; i < n; i++) {
            ref[i] = reference(s, i);
            high[i] = ref[i] > 0 && s.at(i) > RATIO * ref[i];
        }
        int first = 0;
        while (first < n && s.at(first) == 0) {
            first++;
        }
        boolean[] gap = new boolean[n];
        for (int i = first; i < n; i++) {
            gap[i] = gapDay(s, i);
        }
        long[] v = new long[n];
        for (int k = 0; k < n; k++) {
            v[k] = s.at(k);
        }
        List<LocalDate> days = replaceRuns(s, ref, high,
                (i, j) -> aboveTheWeekBefore(s, i, j) && backToNormal(s, i, j), v);
        List<LocalDate> gaps = replaceRuns(s, ref, gap, (i, j) -> true, v);
        DailySeries cleaned = days.isEmpty() && gaps.isEmpty() ? s : DailySeries.of(s.start(), v);
        int runs = 0;
        long minGap = Long.MAX_VALUE;
        LocalDate last = null;
        for (int i = 0; i < days.size(); i++) {
            if (i == 0 || !days.get(i - 1).plusDays(1).equals(days.get(i))) {
                runs++;
                if (last != null) {
                    minGap = Math.min(minGap, ChronoUnit.DAYS.between(last, days.get(i)));
                }
                last = days.get(i);
            }
        }
        double extra = 0;
        double base = 0;
        double ev = gaps.size();
        for (int i = first; i < n; i++) {
            base += cleaned.at(i);
        }
        if (runs >= MIN_RUNS) {
            for (LocalDate d : days) {
                int i = (int) ChronoUnit.DAYS.between(s.start(), d);
                double lift = (double) (s.at(i) - cleaned.at(i));
                extra += lift;
                ev += cleaned.at(i) > 0 ? (lift / cleaned.at(i)) * (lift / cleaned.at(i)) : 0;
            }
        }
        int span = Math.max(1, n - first);
        int quiet = runs >= MIN_RUNS ? (int) Math.max(0, minGap - ChronoUnit.DAYS.between(last, s.end())) : 0;
        return new Bursts(cleaned, List.copyOf(days), List.copyOf(gaps), base > 0 ? extra / base : 0, quiet,
                ev / span);
    }

    /** Which runs of marked days [i, j) to replace. */
    private interface RunTest {
        boolean replace(int i, int j);
    }

    /** Sets each run of at most {@link #MAX_DAYS} marked days that passes {@code test} to its reference; its days. */
    private static List<LocalDate> replaceRuns(DailySeries s, double[] ref, boolean[] mark, RunTest test, long[] v) {
        List<LocalDate> out = new ArrayList<>();
        for (int i = 0; i < mark.length; i++) {
            if (!mark[i]) {
                continue;
            }
            int j = i;
            while (j < mark.length && mark[j]) {
                j++;
            }
            if (j - i <= MAX_DAYS && test.replace(i, j)) {
                for (int k = i; k < j; k++) {
                    v[k] = Math.round(ref[k]);
                    out.add(s.dateAt(k));
                }
            }
            i = j;
        }
        return out;
    }

    /** The share of the days since usage began that were gaps (0 when none). */
    double gapShare() {
        if (gaps.isEmpty()) {
            return 0;
        }
        int first = 0;
        while (first < cleaned.size() && cleaned.at(first) == 0) {
            first++;
        }
        return (double) gaps.size() / Math.max(1, cleaned.size() - first);
    }

    /** A day without usage whose weekday had usage one to three weeks either side (at most once not). */
    private static boolean gapDay(DailySeries s, int i) {
        if (s.at(i) != 0) {
            return false;
        }
        int with = 0;
        int without = 0;
        for (int w = -3; w <= 3; w++) {
            int j = i + 7 * w;
            if (w != 0 && j >= 0 && j < s.size()) {
                if (s.at(j) > 0) {
                    with++;
                } else {
                    without++;
                }
            }
        }
        return with >= 2 && without <= 1;
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
