package dev.tokenbudget.forecast;

import dev.tokenbudget.budget.Dimension;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Arrays;

/**
 * How a day's usage spreads over its local hours: 24 weights, learned from recent days (or
 * uniform). Used for the part of a day that lies in a window, so that a forecast made in a quiet
 * evening does not expect the busy morning's pace until midnight.
 */
public final class IntradayProfile {

    private static final IntradayProfile UNIFORM = new IntradayProfile(uniformWeights());

    private final double[] weights;

    private IntradayProfile(double[] weights) {
        this.weights = weights;
    }

    public static IntradayProfile uniform() {
        return UNIFORM;
    }

    /** A profile from 24 non-negative weights by local hour (uniform if they sum to 0). */
    public static IntradayProfile of(double... hourly) {
        if (hourly.length != 24) {
            throw new IllegalArgumentException("an intra-day profile has 24 hourly weights, was " + hourly.length);
        }
        double sum = 0;
        for (double w : hourly) {
            if (w < 0 || !Double.isFinite(w)) {
                throw new IllegalArgumentException("hourly weights must be finite and >= 0");
            }
            sum += w;
        }
        return sum <= 0 ? UNIFORM : new IntradayProfile(hourly.clone());
    }

    /**
     * Learned from the {@code days} complete days before {@code today}: usage per local hour,
     * with a floor of 1% of the mean hour so that no hour is taken as certainly idle. Uniform when
     * those days used nothing.
     */
    public static IntradayProfile learn(UsageHistory history, String budgetId, Dimension d, ZoneId zone,
                                        LocalDate today, int days) {
        double[] w = new double[24];
        double total = 0;
        for (LocalDate day = today.minusDays(days); day.isBefore(today); day = day.plusDays(1)) {
            ZonedDateTime t = day.atStartOfDay(zone);
            ZonedDateTime end = day.plusDays(1).atStartOfDay(zone);
            while (t.isBefore(end)) {
                ZonedDateTime next = t.plusHours(1);
                long v = history.between(budgetId, d, t.toInstant(), next.toInstant());
                w[t.getHour()] += v;
                total += v;
                t = next;
            }
        }
        if (total <= 0) {
            return UNIFORM;
        }
        double floor = total / 24 * 0.01;
        for (int h = 0; h < 24; h++) {
            w[h] = Math.max(w[h], floor);
        }
        return new IntradayProfile(w);
    }

    /** Share (0..1) of the local day containing {@code from} that falls between {@code from} and {@code to}. */
    public double share(ZoneId zone, Instant from, Instant to) {
        ZonedDateTime start = from.atZone(zone).toLocalDate().atStartOfDay(zone);
        ZonedDateTime end = start.toLocalDate().plusDays(1).atStartOfDay(zone);
        double day = 0;
        double part = 0;
        for (ZonedDateTime t = start; t.isBefore(end); t = t.plusHours(1)) {
            Instant a = t.toInstant();
            Instant b = t.plusHours(1).toInstant();
            double w = weights[t.getHour()];
            day += w;
            Instant s = a.isAfter(from) ? a : from;
            Instant e = b.isBefore(to) ? b : to;
            if (s.isBefore(e)) {
                part += w * Duration.between(s, e).toMillis() / Duration.between(a, b).toMillis();
            }
        }
        return day > 0 ? part / day : 0;
    }

    private static double[] uniformWeights() {
        double[] w = new double[24];
        Arrays.fill(w, 1);
        return w;
    }
}
