package dev.tokenbudget.forecast;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Generated daily usage of the kinds of workload a forecaster meets (docs/forecast.md, "Regime
 * zoo"), each reproducible from a seed ({@link Random}'s algorithm is fixed by the JDK). Every day
 * is {@code base x regime multiplier x weekday factor x lognormal noise}; the events each regime
 * places (a shift, a burst, a launch) are returned with the series, so tests can pin them.
 */
public final class RegimeZoo {

    private static final double BASE = 5_000_000;

    /** The kinds of workload. */
    public enum Regime {
        STEADY_WEEKLY, LINEAR_GROWTH, EXPONENTIAL_GROWTH, SHIFTS_UP, SHIFTS_DOWN, LAUNCH_DECAY, SUCCESSOR, BURSTS,
        NO_WEEKLY, MONTH_START, MISSING_DAYS, RAMP_UP, WANDER;

        /** The name on the command line and in file names: {@code steady-weekly}. */
        public String slug() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Regime of(String slug) {
            for (Regime r : values()) {
                if (r.slug().equals(slug)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("unknown regime '" + slug + "'");
        }
    }

    /**
     * Something the regime placed: on {@code day}, for {@code days} days, of size {@code factor} (for {@code wander}: the
     * walk's standard deviation per day, in log terms, over the whole series).
     */
    public record Event(LocalDate day, int days, double factor) {
    }

    /**
     * A generated series and its stated properties: the weekly amplitude (largest weekday factor
     * over smallest, minus 1; 0 without a cycle), the growth factor over the whole series (1 when
     * none), the events (shifts, bursts, launches, successors, missing days), the mean path, the day noise (σ of the
     * log-normal) and the weekday factors (Monday first).
     */
    public record Generated(Regime regime, long seed, DailySeries series, double weeklyAmplitude, double growth,
                            List<Event> events, double[] mean, double noise, double[] weekdayFactors) {

        /**
         * The noise floor of a forecast of each calendar month's total made at day {@code day}: the mean
         * absolute percentage error (in percent) of an oracle that knows the generator's mean path
         * ({@code mean}, every event included) and misses only the daily noise of the days still to
         * come. The remaining days' noise is independent and log-normal with relative variance
         * {@code e^(σ²) − 1}, so the error of the total is near-normal with that variance times the sum
         * of the squared daily means, and its expected absolute value √(2/π) of its standard
         * deviation. A real forecaster also has to learn the level (and cannot know future events):
         * no method can be below this.
         */
        public double noiseFloor(int day) {
            double v = Math.exp(noise * noise) - 1;
            return perMonth((from, to) -> {
                double total = 0;
                double sq = 0;
                for (int i = from; i < to; i++) {
                    total += mean[i];
                    if (i >= from + day) {
                        sq += mean[i] * mean[i];
                    }
                }
                return total > 0 ? Math.sqrt(2 / Math.PI) * Math.sqrt(v * sq) / total : Double.NaN;
            });
        }

        /**
         * What the oracle of {@link #noiseFloor(int)} achieved on this series, not what it achieves on average:
         * the MAPE (in percent) of each calendar month's total forecast at day {@code day} as the days used so far
         * plus the generator's mean path for the rest. On a series of a few months its luck shows: the simple
         * baselines' errors can come out below it.
         */
        public double oracleMape(int day) {
            return perMonth((from, to) -> {
                double actual = 0;
                double oracle = 0;
                for (int i = from; i < to; i++) {
                    actual += series.at(i);
                    oracle += i < from + day ? series.at(i) : mean[i];
                }
                return actual > 0 ? Math.abs(oracle - actual) / actual : Double.NaN;
            });
        }

        /**
         * What the best forecaster that cannot see the future achieved on this series, where the regime is a local level
         * and that forecaster is known: the MAPE (in percent) of each calendar month's total forecast at day {@code day}
         * by a Kalman filter that knows the generator's form and parameters (the weekday factors, the day noise, the
         * walk's step) but neither the level nor anything to come. On {@code steady-weekly} and {@code no-weekly} (no
         * walk) it is the mean of every day so far; on {@code wander} the optimal exponential smoothing of the days. Its
         * forecast is the expected rest of the month given the days so far, so no forecaster has a smaller expected
         * squared error, and how often it loses to the simple baselines is about how often any forecaster must. NaN for
         * the other regimes, whose events no filter of this form foresees.
         */
        public double idealMape(int day) {
            double q = switch (regime) {
                case STEADY_WEEKLY, NO_WEEKLY -> 0;
                case WANDER -> events.get(0).factor() * events.get(0).factor();
                default -> Double.NaN;
            };
            if (Double.isNaN(q)) {
                return Double.NaN;
            }
            // the log level μ: x = log(usage / weekday factor) + σ²/2 = μ + N(0, σ²); μ moves by N(0, q) a day
            int n = series.size();
            double[] level = new double[n];
            double[] variance = new double[n];
            double m = 0;
            double v = Double.POSITIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                double x = Math.log(series.at(i) / factor(i)) + noise * noise / 2;
                if (Double.isInfinite(v)) {
                    m = x;
                    v = noise * noise;
                } else {
                    v += q;
                    double gain = v / (v + noise * noise);
                    m += gain * (x - m);
                    v *= 1 - gain;
                }
                level[i] = m;
                variance[i] = v;
            }
            return perMonth((from, to) -> {
                int last = from + day - 1;
                double actual = 0;
                double forecast = 0;
                for (int i = from; i < to; i++) {
                    actual += series.at(i);
                    forecast += i <= last ? series.at(i)
                            : factor(i) * Math.exp(level[last] + (variance[last] + (i - last) * q) / 2);
                }
                return actual > 0 ? Math.abs(forecast - actual) / actual : Double.NaN;
            });
        }

        private double factor(int i) {
            return weekdayFactors[series.dateAt(i).getDayOfWeek().getValue() - 1];
        }

        /** A month's relative error from the indices of its first day and of the day after its last (NaN: none). */
        private interface MonthError {
            double of(int from, int to);
        }

        /** The mean of {@code error} over the calendar months fully in the series, in percent (NaN: no month). */
        private double perMonth(MonthError error) {
            double sum = 0;
            int months = 0;
            LocalDate start = series.start();
            LocalDate m = start.withDayOfMonth(1);
            if (m.isBefore(start)) {
                m = m.plusMonths(1);
            }
            for (; !m.plusMonths(1).isAfter(series.end()); m = m.plusMonths(1)) {
                double e = error.of((int) java.time.temporal.ChronoUnit.DAYS.between(start, m),
                        (int) java.time.temporal.ChronoUnit.DAYS.between(start, m.plusMonths(1)));
                if (!Double.isNaN(e)) {
                    sum += e;
                    months++;
                }
            }
            return months == 0 ? Double.NaN : 100 * sum / months;
        }
    }

    private RegimeZoo() {
    }

    public static Generated generate(Regime regime, long seed, LocalDate start, int days) {
        Random rnd = new Random(seed * 1_000_003L + regime.ordinal());
        double amp = regime == Regime.NO_WEEKLY ? 0 : 0.24 + 0.40 * rnd.nextDouble();
        double[] week = week(amp, rnd);
        double noise = regime == Regime.NO_WEEKLY ? 0.15 : 0.10;
        double[] mult = new double[days];
        java.util.Arrays.fill(mult, 1.0);
        List<Event> events = new ArrayList<>();
        double growth = 1;
        switch (regime) {
            case LINEAR_GROWTH -> {
                double per150 = 0.5 + rnd.nextDouble(); // the starting level added every 150 days
                for (int i = 0; i < days; i++) {
                    mult[i] = 1 + per150 * i / 150;
                }
                growth = mult[days - 1];
            }
            case EXPONENTIAL_GROWTH -> {
                double per150 = 2.5 + 2.5 * rnd.nextDouble(); // x2.5 to x5 in 150 days
                for (int i = 0; i < days; i++) {
                    mult[i] = Math.pow(per150, i / 150.0);
                }
                growth = mult[days - 1];
            }
            case SHIFTS_UP, SHIFTS_DOWN -> {
                boolean up = regime == Regime.SHIFTS_UP;
                double level = up ? 1 : 4;
                for (int at = 30 + rnd.nextInt(40); at < days; at += 40 + rnd.nextInt(50)) {
                    double f = up ? 1.4 + 0.8 * rnd.nextDouble() : 0.45 + 0.25 * rnd.nextDouble();
                    level *= f;
                    events.add(new Event(start.plusDays(at), 1, f));
                    scale(mult, at, days, f);
                }
                scale(mult, 0, days, up ? 1 : 4);
                growth = level / (up ? 1 : 4);
            }
            case LAUNCH_DECAY, SUCCESSOR -> {
                boolean launch = regime == Regime.LAUNCH_DECAY;
                for (int at = 20 + rnd.nextInt(30); at < days; at += 60 + rnd.nextInt(60)) {
                    double f = launch ? 2 + 3 * rnd.nextDouble() : 0.3 + 0.3 * rnd.nextDouble();
                    int span = launch ? 5 + rnd.nextInt(16) : 15 + rnd.nextInt(26); // half-life / transition days
                    events.add(new Event(start.plusDays(at), span, f));
                    for (int i = at; i < days; i++) {
                        int k = i - at;
                        // a launch peaks at f and decays to a third of its lift; a successor's rise is a logistic hand-over
                        mult[i] *= launch ? 1 + (f - 1) * (1.0 / 3 + 2.0 / 3 * Math.pow(0.5, (double) k / span))
                                : 1 - (1 - f) / (1 + Math.exp(-8.0 * (k - span / 2.0) / span));
                    }
                }
            }
            case BURSTS -> {
                for (int at = 10 + rnd.nextInt(20); at < days; at += 15 + rnd.nextInt(30)) {
                    int len = 1 + rnd.nextInt(5);
                    double f = 2.5 + 2.5 * rnd.nextDouble();
                    events.add(new Event(start.plusDays(at), Math.min(len, days - at), f));
                    for (int i = at; i < Math.min(days, at + len); i++) {
                        mult[i] *= f;
                    }
                }
            }
            case RAMP_UP -> {
                // a new budget's ramp (a feature launched, a team onboarded): from a low start the traffic grows by a
                // constant 2.5 to 6 % a day until it is x2 to x4 its level before (12 to 56 days), then holds there;
                // the next ramp starts 100 to 160 days after the last
                for (int at = 14 + rnd.nextInt(30); at < days; at += 100 + rnd.nextInt(61)) {
                    double f = 2 + 2 * rnd.nextDouble();
                    double rate = 0.025 + 0.035 * rnd.nextDouble();
                    int span = (int) Math.round(Math.log(f) / Math.log(1 + rate));
                    events.add(new Event(start.plusDays(at), span, f));
                    for (int i = at; i < days; i++) {
                        mult[i] *= Math.pow(f, Math.min(1.0, (i - at + 1.0) / span));
                    }
                    growth *= f;
                }
            }
            case WANDER -> {
                // a level that wanders without a trend or a step: a random walk of 1 to 2 % a day in log terms (a
                // market's volume, a few large clients that come and go), stated as the one event spanning the series
                double step = 0.01 + 0.01 * rnd.nextDouble();
                double log = 0;
                for (int i = 0; i < days; i++) {
                    log += i == 0 ? 0 : step * rnd.nextGaussian();
                    mult[i] = Math.exp(log);
                }
                events.add(new Event(start, days, step));
                growth = mult[days - 1];
            }
            case MONTH_START -> {
                double f = 2.5 + 1.5 * rnd.nextDouble();
                for (int i = 0; i < days; i++) {
                    if (start.plusDays(i).getDayOfMonth() <= 2) {
                        mult[i] *= f;
                        if (start.plusDays(i).getDayOfMonth() == 1) {
                            events.add(new Event(start.plusDays(i), 2, f));
                        }
                    }
                }
            }
            case MISSING_DAYS -> {
                for (int i = 0; i < days; i++) {
                    if (rnd.nextDouble() < 0.04) {
                        int len = rnd.nextDouble() < 0.25 ? 2 + rnd.nextInt(3) : 1;
                        len = Math.min(len, days - i);
                        events.add(new Event(start.plusDays(i), len, 0));
                        for (int k = 0; k < len; k++) {
                            mult[i + k] = 0;
                        }
                        i += len;
                    }
                }
            }
            default -> {
                // steady: weekly cycle and noise only
            }
        }
        long[] v = new long[days];
        double[] mean = new double[days];
        for (int i = 0; i < days; i++) {
            double w = week[start.plusDays(i).getDayOfWeek().getValue() - 1];
            double e = Math.exp(noise * rnd.nextGaussian() - noise * noise / 2);
            mean[i] = BASE * mult[i] * w;
            v[i] = Math.round(mean[i] * e);
        }
        return new Generated(regime, seed, DailySeries.of(start, v), amp, growth, List.copyOf(events), mean, noise, week);
    }

    /** Weekday factors, Monday first, mean 1, largest over smallest = 1 + amp; the busy days are weekdays. */
    private static double[] week(double amp, Random rnd) {
        double[] f = new double[7];
        double low = 1;
        double high = 1 + amp;
        for (int d = 0; d < 7; d++) {
            double mid = low + (high - low) * (0.75 + 0.25 * rnd.nextDouble());
            f[d] = d == 0 ? high : d >= 5 ? (d == 5 ? low : low + (high - low) * 0.1) : mid;
        }
        double s = 0;
        for (double x : f) {
            s += x;
        }
        for (int d = 0; d < 7; d++) {
            f[d] *= 7 / s;
        }
        return f;
    }

    private static void scale(double[] m, int from, int to, double f) {
        for (int i = from; i < to; i++) {
            m[i] *= f;
        }
    }

    /** CSV with header {@code date,total_tokens}. */
    public static String csv(DailySeries s) {
        StringBuilder sb = new StringBuilder("date,total_tokens\n");
        for (int i = 0; i < s.size(); i++) {
            sb.append(s.dateAt(i)).append(',').append(s.at(i)).append('\n');
        }
        return sb.toString();
    }
}
