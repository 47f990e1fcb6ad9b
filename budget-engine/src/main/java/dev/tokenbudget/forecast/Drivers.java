package dev.tokenbudget.forecast;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What drives a forecast, in words a budget owner can check against what they know: the weights
 * of the candidate methods, a trend, a recent level shift, bursts left out, month-start days, the
 * weekly cycle, and where the bands come from.
 */
final class Drivers {

    /** How far back a shift or a burst is still worth naming. */
    static final int RECENT_DAYS = 35;

    private Drivers() {
    }

    static List<String> of(Ensemble.Result e, LocalDate today) {
        List<String> out = new ArrayList<>();
        Candidates.Paths c = e.atCut();
        if (c.model().stage() == DailyModel.Stage.NO_HISTORY) {
            return List.of("no history yet: today's pace");
        }
        StringBuilder w = new StringBuilder("weights:");
        for (Candidates.Kind k : Candidates.Kind.values()) {
            double x = e.weights()[k.ordinal()];
            if (x >= 0.005) {
                w.append(String.format(Locale.ROOT, " %s %d %%,", k.label, Math.round(x * 100)));
            }
        }
        out.add(w.substring(0, w.length() - 1));
        if (e.steady()) {
            out.add("steady workload (no level shift, no trend beyond noise): the long mean alone");
        }
        LocalTrend named = trendCarrying(c, e.weights());
        if (named != null && e.trending() >= 0.2) {
            out.add(String.format(Locale.ROOT, "trend %+.0f %%/month", named.percentPerMonth()));
        }
        if (c.decay() != null && e.weights()[Candidates.Kind.DECAY.ordinal()] >= 0.2) {
            out.add(String.format(Locale.ROOT, "launch on %s decaying: half-life %.0f days, settling at %+.0f %% over "
                    + "the level before", today.minusDays(c.decay().age()), c.decay().halfLife(),
                    (c.decay().floor() / c.decay().before() - 1) * 100));
        }
        for (LocalDate s : c.model().shifts()) {
            if (!s.isBefore(today.minusDays(RECENT_DAYS))) {
                out.add("level shift on " + s);
            }
        }
        runs(c.bursts().discounted(), "burst on ", " discounted", today, out);
        runs(c.bursts().gaps(), "no usage on ", " taken as an outage, not the level", today, out);
        if (c.monthStart().present()) {
            double[] f = c.monthStart().factors();
            out.add(String.format(Locale.ROOT, "month-start days x%.1f, x%.1f, x%.1f", f[0], f[1], f[2]));
        }
        double hi = 0;
        double lo = Double.MAX_VALUE;
        for (DayOfWeek d : DayOfWeek.values()) {
            hi = Math.max(hi, c.model().factor(d));
            lo = Math.min(lo, c.model().factor(d));
        }
        if (lo > 0 && hi / lo > 1.15) {
            out.add(String.format(Locale.ROOT, "weekly cycle: busiest day +%.0f %% over the quietest", (hi / lo - 1) * 100));
        }
        out.add(e.ratios().length > 0 ? "bands from " + e.ratios().length + " past forecasts at this horizon"
                : "bands from the model's noise (too little history to check past forecasts)");
        return out;
    }

    /** One line per run of consecutive days that ended within the last {@link #RECENT_DAYS} days. */
    private static void runs(List<LocalDate> days, String before, String after, LocalDate today, List<String> out) {
        for (int i = 0; i < days.size(); i++) {
            int j = i;
            while (j + 1 < days.size() && days.get(j + 1).equals(days.get(j).plusDays(1))) {
                j++;
            }
            if (!days.get(j).isBefore(today.minusDays(RECENT_DAYS))) {
                out.add(before + days.get(i) + (j > i ? " to " + days.get(j) : "") + after);
            }
            i = j;
        }
    }

    /** The trend whose rate the words name: the steady (long) one where it weighs at least as much as the recent one. */
    private static LocalTrend trendCarrying(Candidates.Paths c, double[] w) {
        LocalTrend recent = c.trend() != null && c.trend().slope() != 0 ? c.trend() : null;
        if (c.steady() != null && (recent == null
                || w[Candidates.Kind.STEADY_TREND.ordinal()] >= w[Candidates.Kind.TREND.ordinal()])) {
            return c.steady();
        }
        return recent;
    }
}
