package dev.tokenbudget.forecast;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Measures the forecaster against three references on a daily series: linear month-to-date
 * extrapolation, a 14-day rolling average and Holt-Winters ({@link HoltWinters}, variant by
 * AICc). For each window (each calendar month fully in the data, or each N-day window starting on
 * every day) and each horizon (day 5, 10, 15, 20, 25 of the window), every method forecasts the
 * window's total from the days before that day; the report gives the mean absolute percentage
 * error of each and how often the actual total fell in the model's 80% and 95% bands. Windows
 * whose actual total is 0 are skipped (no percentage error exists).
 */
public final class Backtest {

    public static final int[] HORIZONS = {5, 10, 15, 20, 25};

    /** History the model sees, as the store keeps it: 90 days before the forecast day. */
    public static final int LOOKBACK_DAYS = 90;

    private final Forecaster forecaster;

    public Backtest(Forecaster forecaster) {
        this.forecaster = Objects.requireNonNull(forecaster, "forecaster");
    }

    /** Calendar months ({@code days <= 0}) or N-day windows. */
    public record WindowMode(int days) {
        public static WindowMode month() {
            return new WindowMode(0);
        }

        public static WindowMode days(int n) {
            if (n < 2) {
                throw new IllegalArgumentException("a backtest window must be at least 2 days, was " + n);
            }
            return new WindowMode(n);
        }

        public boolean isMonth() {
            return days <= 0;
        }
    }

    /** Results of one horizon; MAPE in percent, coverage as a share (0..1). */
    public record HorizonResult(int day, int windows, double mapeModel, double mapeLinear, double mapeRolling14,
                                double mapeHoltWinters, double coverage80, double coverage95) {

        /** The better of the two simple baselines (linear, rolling-14). */
        public double mapeBestBaseline() {
            return Math.min(mapeLinear, mapeRolling14);
        }
    }

    /**
     * One window's forecasts at one horizon, as relative errors on the window's total ({@code (forecast − actual) /
     * actual}), and whether the actual total fell in the model's bands.
     */
    public record WindowError(LocalDate start, LocalDate end, int day, double model, double linear, double rolling14,
                              double holtWinters, boolean within80, boolean within95) {
    }

    public List<HorizonResult> run(DailySeries data, WindowMode mode) {
        List<HorizonResult> out = new ArrayList<>();
        for (int h : HORIZONS) {
            List<WindowError> errors = errors(data, mode, h);
            if (!errors.isEmpty()) {
                out.add(summary(h, errors));
            }
        }
        return out;
    }

    /** The MAPE of each method and the model's coverage over {@code errors} (at least one), all made at day {@code day}. */
    public static HorizonResult summary(int day, List<WindowError> errors) {
        double em = 0;
        double el = 0;
        double er = 0;
        double eh = 0;
        int covered = 0;
        int covered95 = 0;
        for (WindowError e : errors) {
            em += Math.abs(e.model());
            el += Math.abs(e.linear());
            er += Math.abs(e.rolling14());
            eh += Math.abs(e.holtWinters());
            covered += e.within80() ? 1 : 0;
            covered95 += e.within95() ? 1 : 0;
        }
        int n = errors.size();
        return new HorizonResult(day, n, 100 * em / n, 100 * el / n, 100 * er / n, 100 * eh / n, (double) covered / n,
                (double) covered95 / n);
    }

    /** Every window's errors at day {@code day} of it (windows no longer than that, or with no usage, are left out). */
    public List<WindowError> errors(DailySeries data, WindowMode mode, int day) {
        List<WindowError> out = new ArrayList<>();
        for (LocalDate[] w : windows(data, mode)) {
            LocalDate start = w[0];
            LocalDate end = w[1];
            int length = (int) java.time.temporal.ChronoUnit.DAYS.between(start, end);
            long actual = data.sum(start, end);
            if (day >= length || actual <= 0) {
                continue;
            }
            LocalDate cut = start.plusDays(day);
            long used = data.sum(start, cut);
            Forecast f = model(data, start, end, cut, used);
            double linear = (double) used * length / day;
            double rolling = used + rollingAverage(data, cut) * (length - day);
            double hw = used + holtWinters(data, cut, length - day);
            out.add(new WindowError(start, end, day, (f.expected() - actual) / actual, (linear - actual) / actual,
                    (rolling - actual) / actual, (hw - actual) / actual, f.within80(actual),
                    actual >= f.lower95() && actual <= f.upper95()));
        }
        return out;
    }

    /**
     * How well the predictive alert would have done at day {@code day} of each window, with the
     * limit set at the previous window's total plus {@code headroom} (0.1: +10 %), under every
     * {@link AlertRule}.
     *
     * @param exceeded windows whose actual total went over the limit
     * @param alerts   per rule (by ordinal), windows where the rule fired
     * @param hits     per rule (by ordinal), windows where it fired and the total went over
     */
    public record AlertScore(int windows, int exceeded, java.util.List<Integer> alerts, java.util.List<Integer> hits) {

        public AlertScore {
            alerts = java.util.List.copyOf(alerts);
            hits = java.util.List.copyOf(hits);
        }

        public static AlertScore none() {
            java.util.List<Integer> zero = java.util.Collections.nCopies(AlertRule.values().length, 0);
            return new AlertScore(0, 0, zero, zero);
        }

        public double precision(AlertRule r) {
            int a = alerts.get(r.ordinal());
            return a == 0 ? Double.NaN : (double) hits.get(r.ordinal()) / a;
        }

        public double recall(AlertRule r) {
            return exceeded == 0 ? Double.NaN : (double) hits.get(r.ordinal()) / exceeded;
        }

        public AlertScore plus(AlertScore o) {
            java.util.List<Integer> a = new ArrayList<>();
            java.util.List<Integer> h = new ArrayList<>();
            for (int i = 0; i < alerts.size(); i++) {
                a.add(alerts.get(i) + o.alerts.get(i));
                h.add(hits.get(i) + o.hits.get(i));
            }
            return new AlertScore(windows + o.windows, exceeded + o.exceeded, a, h);
        }
    }

    public AlertScore alerts(DailySeries data, WindowMode mode, int day, double headroom) {
        List<LocalDate[]> windows = windows(data, mode);
        AlertScore score = AlertScore.none();
        for (LocalDate[] w : windows) {
            int length = (int) java.time.temporal.ChronoUnit.DAYS.between(w[0], w[1]);
            LocalDate prevStart = mode.isMonth() ? w[0].minusMonths(1) : w[0].minusDays(length);
            if (day >= length || prevStart.isBefore(data.start())) {
                continue;
            }
            double limit = data.sum(prevStart, w[0]) * (1 + headroom);
            long actual = data.sum(w[0], w[1]);
            LocalDate cut = w[0].plusDays(day);
            Forecast f = model(data, w[0], w[1], cut, data.sum(w[0], cut));
            boolean over = actual > limit;
            List<Integer> a = new ArrayList<>();
            List<Integer> h = new ArrayList<>();
            for (AlertRule r : AlertRule.values()) {
                boolean fires = r.fires(f, limit);
                a.add(fires ? 1 : 0);
                h.add(fires && over ? 1 : 0);
            }
            score = score.plus(new AlertScore(1, over ? 1 : 0, a, h));
        }
        return score;
    }

    private Forecast model(DailySeries data, LocalDate start, LocalDate end, LocalDate cut, long used) {
        LocalDate from = cut.minusDays(LOOKBACK_DAYS);
        DailySeries history = data.slice(from.isBefore(data.start()) ? data.start() : from, cut);
        if (history.isEmpty()) {
            history = DailySeries.empty(cut);
        }
        return forecaster.span(history, 0, cut.atStartOfDay(ZoneOffset.UTC).toInstant(), ZoneOffset.UTC,
                start.atStartOfDay(ZoneOffset.UTC).toInstant(), end.atStartOfDay(ZoneOffset.UTC).toInstant(), used,
                -1);
    }

    /** Holt-Winters' forecast of the {@code days} days from {@code cut}, fitted on the lookback before it. */
    static double holtWinters(DailySeries data, LocalDate cut, int days) {
        DailySeries h = data.slice(cut.minusDays(LOOKBACK_DAYS), cut);
        double[] y = new double[h.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = h.at(i);
        }
        HoltWinters.Fit f = HoltWinters.select(y);
        return f == null ? rollingAverage(data, cut) * days : f.sum(1, days);
    }

    /** Mean of the (up to) 14 days before {@code cut}. */
    static double rollingAverage(DailySeries data, LocalDate cut) {
        DailySeries last = data.slice(cut.minusDays(14), cut);
        return last.isEmpty() ? 0 : (double) last.sum(last.start(), last.end()) / last.size();
    }

    private static List<LocalDate[]> windows(DailySeries data, WindowMode mode) {
        List<LocalDate[]> out = new ArrayList<>();
        if (mode.isMonth()) {
            LocalDate m = data.start().withDayOfMonth(1);
            if (m.isBefore(data.start())) {
                m = m.plusMonths(1);
            }
            for (; !m.plusMonths(1).isAfter(data.end()); m = m.plusMonths(1)) {
                out.add(new LocalDate[] {m, m.plusMonths(1)});
            }
        } else {
            for (LocalDate s = data.start(); !s.plusDays(mode.days()).isAfter(data.end()); s = s.plusDays(1)) {
                out.add(new LocalDate[] {s, s.plusDays(mode.days())});
            }
        }
        return out;
    }
}
