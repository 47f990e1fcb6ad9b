package dev.tokenbudget.forecast;

import java.time.LocalDate;
import java.util.Arrays;

/**
 * The candidate forecasts of the days ahead, each from the history before a given day: the
 * robust level with weekday factors and level shifts ({@link DailyModel}), the same with a damped
 * local trend ({@link LocalTrend}), Holt-Winters with the parameters chosen on the whole
 * history, after a launch its decay ({@link Decay}), and where a trend has held for months, that trend undamped
 * ({@link LocalTrend#steady()}). Each learns from the history with month-start effects ({@link MonthStart}) and ended
 * bursts ({@link Bursts}) taken out; each is a path: expected usage per day ahead.
 */
final class Candidates {

    /**
     * The candidate methods, in a fixed order. {@code judged}: weighted by its rolling-origin errors;
     * {@code blind}: weighted while no past forecast can be checked yet. A trend or Holt-Winters
     * fitted on a week or two extrapolates its noise, so until their forecasts can be checked the
     * forecast rests on the level and the plain 14-day mean; the 14-day mean itself is a reference, not
     * weighed against the others (it would only add the noise of the weights).
     */
    enum Kind {
        LEVEL("level", true, true), TREND("trend", true, false), HOLT_WINTERS("holt-winters", true, false),
        DECAY("decay", true, false), LONG_MEAN("long mean", true, false), STEADY_TREND("steady trend", true, false),
        MEAN14("14-day mean", false, true);

        final String label;
        final boolean judged;
        final boolean blind;

        Kind(String label, boolean judged, boolean blind) {
            this.label = label;
            this.judged = judged;
            this.blind = blind;
        }
    }

    static final int COUNT = Kind.values().length;

    /**
     * Below this many standard errors a line's slope is taken for noise when testing for a steady workload
     * ({@link Paths#flat()}).
     */
    static final double FLAT_Z = 1.5;

    /**
     * The paths and what they rest on: the model and the trend at that day. {@code flat}: a steady workload, on
     * which the long mean is the forecast (no level shift in the history, no launch decaying, the long mean
     * offered, and neither the 28-day nor the 90-day line through the deseasonalised days, the latter on at
     * least {@link LocalTrend#STEADY_POINTS} days, has a slope of {@link #FLAT_Z} standard errors).
     */
    record Paths(double[][] byKind, DailyModel model, LocalTrend trend, LocalTrend steady, Decay decay, MonthStart monthStart,
                 Bursts bursts, boolean flat) {
        boolean has(Kind k) {
            return byKind[k.ordinal()] != null;
        }

        /** Sum of the first {@code days} days of a candidate's path. */
        double sum(Kind k, int days) {
            double s = 0;
            for (int d = 0; d < days; d++) {
                s += byKind[k.ordinal()][d];
            }
            return s;
        }
    }

    private Candidates() {
    }

    /**
     * What every candidate learns from: the raw days, the month-start effects and the bursts found in them, the
     * history with both taken out, and the model fitted on it.
     */
    record Learned(DailySeries raw, MonthStart monthStart, Bursts bursts, DailySeries history, DailyModel model) {
    }

    static Learned learn(DailySeries raw, ForecastParams p) {
        MonthStart ms = MonthStart.learn(raw);
        Bursts bursts = Bursts.find(ms.adjust(raw));
        DailySeries history = bursts.cleaned();
        return new Learned(raw, ms, bursts, history, DailyModel.fit(history, p));
    }

    /**
     * Paths of {@code days} days from the day after {@code raw}; {@code hw}: Holt-Winters'
     * variant and parameters ({@link #holtWinters}; null: none), run here restarting at the shifts detected in
     * {@code raw}.
     */
    static Paths paths(DailySeries raw, int days, HoltWinters.Fit hw, ForecastParams p) {
        return paths(learn(raw, p), days, hw, p);
    }

    /** As {@link #paths(DailySeries, int, HoltWinters.Fit, ForecastParams)}, from what was learned already. */
    static Paths paths(Learned learned, int days, HoltWinters.Fit hw, ForecastParams p) {
        MonthStart ms = learned.monthStart();
        Bursts bursts = learned.bursts();
        DailySeries history = learned.history();
        DailyModel m = learned.model();
        double[][] out = new double[COUNT][];
        if (m.stage() == DailyModel.Stage.NO_HISTORY) {
            return new Paths(out, m, null, null, null, ms, bursts, false);
        }
        LocalDate next = history.end();
        LocalTrend trend = LocalTrend.fit(history, m);
        Decay decay = Decay.fit(history, m);
        LocalTrend longTrend = LocalTrend.fit(history, m, LocalTrend.STEADY_WINDOW);
        double[] level = new double[days];
        double[] tr = new double[days];
        double[] dec = new double[days];
        double[] steady = new double[days];
        for (int k = 0; k < days; k++) {
            LocalDate d = next.plusDays(k);
            level[k] = m.expected(d);
            tr[k] = m.factor(d.getDayOfWeek()) * trend.level(k + 1, m.sigma());
            steady[k] = m.factor(d.getDayOfWeek()) * longTrend.undampedLevel(k + 1, m.sigma());
            dec[k] = decay == null ? 0 : m.factor(d.getDayOfWeek()) * decay.level(k + 1);
        }
        out[Kind.LEVEL.ordinal()] = level;
        out[Kind.DECAY.ordinal()] = decay == null ? null : dec;
        double mean = longMean(history, m);
        if (mean > 0) {
            double[] lm = new double[days];
            for (int k = 0; k < days; k++) {
                lm[k] = mean * m.factor(next.plusDays(k).getDayOfWeek());
            }
            out[Kind.LONG_MEAN.ordinal()] = lm;
        }
        out[Kind.TREND.ordinal()] = trend.points() > 0 && trend.slope() != 0 ? tr : null;
        out[Kind.STEADY_TREND.ordinal()] = longTrend.steady() ? steady : null;
        if (hw != null) {
            double[] y = values(history);
            if (y.length >= 3) {
                HoltWinters.Fit f = HoltWinters.run(y, hw.variant(), hw.params(), restarts(history, m));
                double[] h = new double[days];
                for (int k = 0; k < days; k++) {
                    h[k] = f.forecast(k + 1);
                }
                out[Kind.HOLT_WINTERS.ordinal()] = h;
            }
        }
        if (bursts.gapShare() > 0 || bursts.burstShare() > 0) {
            // gaps and bursts were taken out so that none is taken as the level, but they come back at the rate
            // seen (a burst not sooner after the last one than bursts have ever followed each other)
            for (double[] path : out) {
                for (int k = 0; path != null && k < days; k++) {
                    path[k] *= (1 - bursts.gapShare()) * (1 + (k >= bursts.quietDays() ? bursts.burstShare() : 0));
                }
            }
        }
        if (ms.present()) {
            for (double[] path : out) {
                for (int k = 0; path != null && k < days; k++) {
                    path[k] *= ms.factor(next.plusDays(k));
                }
            }
        }
        out[Kind.MEAN14.ordinal()] = mean14(learned.raw(), days);
        boolean flat = m.shifts().isEmpty() && decay == null && out[Kind.LONG_MEAN.ordinal()] != null
                && longTrend.points() >= LocalTrend.STEADY_POINTS && noSlope(longTrend) && noSlope(trend);
        return new Paths(out, m, trend, longTrend.steady() ? longTrend : null, decay, ms, bursts, flat);
    }

    /**
     * Holt-Winters' variant and parameters for the candidate, chosen on the history as the candidates learn from it
     * (month-start effects and ended bursts taken out) and restarting at the level shifts the model detects there
     * ({@link HoltWinters#select(double[], int[])}); null before 3 days of usage. The plain reference
     * ({@link HoltWinters#select(double[])} on the raw days) absorbs each step into its smoothing: on a workload that
     * shifts it chooses a level that follows the last few days, which after the shift forecasts noise.
     */
    static HoltWinters.Fit holtWinters(Learned learned) {
        double[] y = values(learned.history());
        return y.length >= 3 ? HoltWinters.select(y, restarts(learned.history(), learned.model())) : null;
    }

    /** The model's detected level shifts as indices into {@link #values} of the history it was fitted on. */
    private static int[] restarts(DailySeries history, DailyModel m) {
        int first = history.size() - values(history).length;
        return m.shifts().stream()
                .mapToInt(d -> (int) java.time.temporal.ChronoUnit.DAYS.between(history.start(), d) - first)
                .filter(i -> i > 0).toArray();
    }

    private static boolean noSlope(LocalTrend t) {
        return Math.abs(t.slope()) < FLAT_Z * t.slopeError();
    }

    /** The plain mean of the last (up to) 14 days with usage data, flat: the rolling-14 baseline's rate. */
    private static double[] mean14(DailySeries raw, int days) {
        int k = Math.min(14, values(raw).length);
        double[] out = new double[days];
        Arrays.fill(out, Ensemble.sum(raw, raw.size() - k, raw.size()) / k);
        return out;
    }

    /**
     * The plain mean of the deseasonalised days since the last level shift (all the history
     * otherwise): on a steady workload the estimate with the least noise, which the exponentially
     * weighted level trades for reacting within days; 0 with fewer than 28 such days.
     */
    static double longMean(DailySeries s, DailyModel m) {
        int from = 0;
        while (from < s.size() && s.at(from) == 0) {
            from++;
        }
        if (!m.shifts().isEmpty()) {
            from = Math.max(from, (int) java.time.temporal.ChronoUnit.DAYS.between(s.start(),
                    m.shifts().get(m.shifts().size() - 1)));
        }
        if (s.size() - from < 28) {
            return 0;
        }
        double sum = 0;
        for (int i = from; i < s.size(); i++) {
            double f = m.factor(s.dateAt(i).getDayOfWeek());
            sum += f >= 0.05 ? s.at(i) / f : 0;
        }
        return sum / (s.size() - from);
    }

    /** The history's days from its first with usage (what the models learn from). */
    static double[] values(DailySeries s) {
        int first = 0;
        while (first < s.size() && s.at(first) == 0) {
            first++;
        }
        double[] y = new double[s.size() - first];
        for (int i = 0; i < y.length; i++) {
            y[i] = s.at(first + i);
        }
        return y;
    }
}
