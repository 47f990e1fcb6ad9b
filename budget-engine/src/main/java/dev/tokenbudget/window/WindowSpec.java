package dev.tokenbudget.window;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.time.temporal.TemporalAdjusters;
import java.util.Objects;

/**
 * A window definition: a calendar month, ISO week (Monday first) or day in an IANA time zone,
 * or a rolling length bucketed into {@value #ROLLING_BUCKETS} buckets.
 *
 * <p>Rolling windows are exact to one bucket (1/{@value #ROLLING_BUCKETS} of the length, under
 * 2%): usage counts until the end of the bucket it landed in plus the window's length, so the
 * store may count a little usage slightly longer than the length, never shorter. Immutable.
 */
public final class WindowSpec {

    /** Buckets per rolling window; 60 keeps the cap accurate to ~1.7% of the length. */
    public static final int ROLLING_BUCKETS = 60;

    /** How long a calendar window's counters are kept after its end (history and status). */
    public static final Duration CALENDAR_RETENTION = Duration.ofDays(40);

    private final String name;
    private final Period period;
    private final ZoneId zone;
    private final Duration length;
    private final long bucketMillis;
    private volatile WindowRef cached;

    private WindowSpec(String name, Period period, ZoneId zone, Duration length) {
        this.period = Objects.requireNonNull(period, "period");
        this.zone = Objects.requireNonNull(zone, "zone");
        this.length = length;
        this.bucketMillis = period == Period.ROLLING ? Math.max(1, length.toMillis() / ROLLING_BUCKETS) : 0;
        this.name = name != null ? name : defaultName(period, length);
    }

    public static WindowSpec calendar(Period period, ZoneId zone) {
        if (!period.isCalendar()) {
            throw new IllegalArgumentException("not a calendar period: " + period);
        }
        return new WindowSpec(null, period, zone, null);
    }

    public static WindowSpec rolling(Duration length) {
        if (length.toMillis() < ROLLING_BUCKETS) {
            throw new IllegalArgumentException("a rolling window must be at least " + ROLLING_BUCKETS + " ms long");
        }
        return new WindowSpec(null, Period.ROLLING, ZoneId.of("UTC"), length);
    }

    /** The same window under another name (names must be unique within one budget). */
    public WindowSpec named(String newName) {
        return new WindowSpec(newName, period, zone, length);
    }

    private static String defaultName(Period period, Duration length) {
        if (period != Period.ROLLING) {
            return period.name().toLowerCase(java.util.Locale.ROOT);
        }
        long s = length.toSeconds();
        if (s % 86_400 == 0) {
            return "rolling-" + (s / 86_400) + "d";
        }
        if (s % 3_600 == 0) {
            return "rolling-" + (s / 3_600) + "h";
        }
        return "rolling-" + s + "s";
    }

    public String name() {
        return name;
    }

    public Period period() {
        return period;
    }

    public ZoneId zone() {
        return zone;
    }

    /** The rolling length; null for calendar windows. */
    public Duration length() {
        return length;
    }

    /** The window in force at {@code t}; cached, since it changes once per window or bucket. */
    public WindowRef at(Instant t) {
        WindowRef c = cached;
        if (c != null && c.covers(t)) {
            return c;
        }
        c = compute(t);
        cached = c;
        return c;
    }

    private WindowRef compute(Instant t) {
        if (period == Period.ROLLING) {
            long bucket = Math.floorDiv(t.toEpochMilli(), bucketMillis);
            Instant start = Instant.ofEpochMilli((bucket - ROLLING_BUCKETS + 1) * bucketMillis);
            Instant end = Instant.ofEpochMilli((bucket + 1) * bucketMillis);
            return new WindowRef(name, bucket, ROLLING_BUCKETS, bucketMillis, start, end,
                    end.plus(length).plusMillis(bucketMillis));
        }
        ZonedDateTime local = t.atZone(zone);
        LocalDate day = local.toLocalDate();
        LocalDate first;
        LocalDate next;
        String label;
        switch (period) {
            case MONTH -> {
                first = day.withDayOfMonth(1);
                next = first.plusMonths(1);
                label = String.format("%04d-%02d", first.getYear(), first.getMonthValue());
            }
            case WEEK -> {
                first = day.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
                next = first.plusWeeks(1);
                label = String.format("%04d-W%02d", first.get(IsoFields.WEEK_BASED_YEAR),
                        first.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
            }
            case DAY -> {
                first = day;
                next = day.plusDays(1);
                label = day.toString();
            }
            default -> throw new IllegalStateException(period.toString());
        }
        Instant start = first.atStartOfDay(zone).toInstant();
        Instant end = next.atStartOfDay(zone).toInstant();
        if (!end.isAfter(t)) {
            // The wall clock went back over midnight (St John's ended DST at 00:01 until 2011), so t
            // reads as the previous date again; that window has ended: t belongs to the next one.
            return compute(end);
        }
        return new WindowRef(name + ":" + label, 0, 1, end.toEpochMilli() - start.toEpochMilli(), start, end,
                end.plus(CALENDAR_RETENTION));
    }

    /**
     * Whether {@code o} cuts time into the same windows (period, zone and length alike; the name
     * may differ): a child's window and its parent's are then instances of the same span.
     */
    public boolean sameSpanAs(WindowSpec o) {
        return period == o.period && zone.equals(o.zone) && Objects.equals(length, o.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WindowSpec w && name.equals(w.name) && period == w.period && zone.equals(w.zone)
                && Objects.equals(length, w.length);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, period, zone, length);
    }

    @Override
    public String toString() {
        return period == Period.ROLLING ? name : name + "@" + zone;
    }
}
