package dev.tokenbudget.forecast;

import java.time.LocalDate;
import java.util.Random;

/**
 * Generated daily token usage with known structure, for backtests and tests: reproducible from
 * a seed ({@link Random}'s algorithm is fixed by the JDK's specification). The method is
 * documented in docs/forecast.md and the committed files in examples/data were made with it.
 *
 * <p>Each day: {@code level * weekday factor * lognormal noise (sd 0.12)}, a spike (x1.5..2.5)
 * on 2% of days, the level on a slow random walk (sd 1% per day). The level-shift kind also
 * multiplies the level every 25 to 70 days by one of 2.0, 0.5, 1.6, 0.7 or 1.4 (a launch, a
 * feature switched off), kept within a quarter and eight times the starting level.
 */
public final class SyntheticSeries {

    /** Monday-heavy weekday profile (Monday first), mean 1. */
    static final double[] WEEKDAY = normalised(1.30, 1.22, 1.15, 1.10, 0.98, 0.65, 0.60);

    private static final double[] SHIFTS = {2.0, 0.5, 1.6, 0.7, 1.4};
    private static final double BASE = 2_000_000;

    /** The kinds of series. */
    public enum Kind {
        WEEKDAY_SEASONAL,
        LEVEL_SHIFTS
    }

    /** One generated day: input and output tokens. */
    public record Day(LocalDate date, long input, long output) {
        public long total() {
            return input + output;
        }
    }

    private SyntheticSeries() {
    }

    public static Day[] generate(Kind kind, long seed, LocalDate start, int days) {
        Random rnd = new Random(seed);
        Day[] out = new Day[days];
        double level = BASE;
        int nextShift = kind == Kind.LEVEL_SHIFTS ? 25 + rnd.nextInt(46) : Integer.MAX_VALUE;
        for (int i = 0; i < days; i++) {
            LocalDate d = start.plusDays(i);
            if (i == nextShift) {
                double f = SHIFTS[rnd.nextInt(SHIFTS.length)];
                level = Math.max(BASE / 4, Math.min(BASE * 8, level * f));
                nextShift = i + 25 + rnd.nextInt(46);
            }
            level *= Math.exp(0.01 * rnd.nextGaussian());
            double v = level * WEEKDAY[d.getDayOfWeek().getValue() - 1] * Math.exp(0.12 * rnd.nextGaussian() - 0.0072);
            if (rnd.nextDouble() < 0.02) {
                v *= 1.5 + rnd.nextDouble();
            }
            double inputShare = 0.70 + 0.05 * rnd.nextGaussian();
            long total = Math.round(v);
            long input = Math.round(total * Math.max(0.4, Math.min(0.95, inputShare)));
            out[i] = new Day(d, input, total - input);
        }
        return out;
    }

    /** The totals as a series. */
    public static DailySeries totals(Day[] days) {
        long[] v = new long[days.length];
        for (int i = 0; i < days.length; i++) {
            v[i] = days[i].total();
        }
        return DailySeries.of(days[0].date(), v);
    }

    /** CSV with header {@code date,input_tokens,output_tokens}. */
    public static String csv(Day[] days) {
        StringBuilder sb = new StringBuilder("date,input_tokens,output_tokens\n");
        for (Day d : days) {
            sb.append(d.date()).append(',').append(d.input()).append(',').append(d.output()).append('\n');
        }
        return sb.toString();
    }

    private static double[] normalised(double... f) {
        double s = 0;
        for (double x : f) {
            s += x;
        }
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i] * f.length / s;
        }
        return out;
    }
}
