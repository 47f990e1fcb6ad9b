package dev.tokenbudget.forecast;

import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Objects;

/**
 * Tokens per calendar day over consecutive days, oldest first. A day without usage is 0, so the
 * series never has holes. Immutable.
 */
public final class DailySeries {

    private final LocalDate start;
    private final long[] values;

    private DailySeries(LocalDate start, long[] values) {
        this.start = Objects.requireNonNull(start, "start");
        this.values = values;
    }

    /** The series starting on {@code start}; values must be >= 0. */
    public static DailySeries of(LocalDate start, long... values) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0) {
                throw new IllegalArgumentException("daily usage must be >= 0, was " + values[i] + " on "
                        + start.plusDays(i));
            }
        }
        return new DailySeries(start, values.clone());
    }

    /** An empty series whose next day is {@code start}. */
    public static DailySeries empty(LocalDate start) {
        return new DailySeries(start, new long[0]);
    }

    public LocalDate start() {
        return start;
    }

    /** The day after the last one. */
    public LocalDate end() {
        return start.plusDays(values.length);
    }

    public int size() {
        return values.length;
    }

    public boolean isEmpty() {
        return values.length == 0;
    }

    /** Usage on day {@code i} (0 = {@link #start()}). */
    public long at(int i) {
        return values[i];
    }

    public LocalDate dateAt(int i) {
        return start.plusDays(i);
    }

    /** Usage on {@code day}, 0 outside the series. */
    public long on(LocalDate day) {
        long i = ChronoUnit.DAYS.between(start, day);
        return i < 0 || i >= values.length ? 0 : values[(int) i];
    }

    /** The days {@code from} (inclusive) to {@code to} (exclusive), clipped to the series. */
    public DailySeries slice(LocalDate from, LocalDate to) {
        LocalDate f = from.isBefore(start) ? start : from;
        LocalDate t = to.isAfter(end()) ? end() : to;
        if (!f.isBefore(t)) {
            return empty(f.isAfter(end()) ? end() : f);
        }
        int a = (int) ChronoUnit.DAYS.between(start, f);
        int b = (int) ChronoUnit.DAYS.between(start, t);
        return new DailySeries(f, Arrays.copyOfRange(values, a, b));
    }

    /** Sum of the days {@code from} (inclusive) to {@code to} (exclusive). */
    public long sum(LocalDate from, LocalDate to) {
        long s = 0;
        DailySeries d = slice(from, to);
        for (long v : d.values) {
            s += v;
        }
        return s;
    }

    @Override
    public String toString() {
        return "DailySeries[" + start + ".." + end() + ", " + values.length + " days]";
    }
}
