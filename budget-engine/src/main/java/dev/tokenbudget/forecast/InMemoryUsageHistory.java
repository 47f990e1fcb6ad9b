package dev.tokenbudget.forecast;

import dev.tokenbudget.budget.Dimension;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.List;
import java.util.RandomAccess;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Usage history in process: per budget, input and output tokens in hourly buckets for the last
 * {@code retention} (90 days by default), in a ring that forgets the oldest hour as a new one
 * begins. Days in any time zone are summed from the hours (zones with a half-hour offset are
 * rounded to the hour). Feed it with {@link #record} when usage settles. Thread-safe.
 */
public final class InMemoryUsageHistory implements UsageHistory {

    public static final Duration DEFAULT_RETENTION = Duration.ofDays(90);

    private static final long HOUR_MS = 3_600_000L;

    private final int hours;
    private final ConcurrentHashMap<String, Ring> budgets = new ConcurrentHashMap<>();

    public InMemoryUsageHistory() {
        this(DEFAULT_RETENTION);
    }

    public InMemoryUsageHistory(Duration retention) {
        // one day more than asked, so that the oldest complete day in any zone is whole
        this.hours = (int) retention.plusDays(1).toHours();
        if (hours < 48) {
            throw new IllegalArgumentException("keep at least a day of history, was " + retention);
        }
    }

    @Override
    public void record(Collection<String> budgetIds, Instant at, long input, long output) {
        if (input < 0 || output < 0) {
            throw new IllegalArgumentException("usage must be >= 0, was " + input + "/" + output);
        }
        long hour = Math.floorDiv(at.toEpochMilli(), HOUR_MS);
        if (budgetIds instanceof List<String> ids && ids instanceof RandomAccess) {
            // by index: the engine passes an unmodifiable list, whose iterator is two objects per settle
            for (int i = 0; i < ids.size(); i++) {
                add(ids.get(i), hour, input, output);
            }
        } else {
            for (String id : budgetIds) {
                add(id, hour, input, output);
            }
        }
    }

    private void add(String budgetId, long hour, long input, long output) {
        Ring r = budgets.get(budgetId);
        // computeIfAbsent only for a new budget: its lambda captures this, an allocation per settle
        (r != null ? r : budgets.computeIfAbsent(budgetId, k -> new Ring(hours))).add(hour, input, output);
    }

    @Override
    public DailySeries daily(String budgetId, Dimension dimension, ZoneId zone, LocalDate from, LocalDate to) {
        int n = (int) Math.max(0, ChronoUnit.DAYS.between(from, to));
        long[] v = new long[n];
        Ring r = budgets.get(budgetId);
        if (r != null) {
            for (int i = 0; i < n; i++) {
                LocalDate d = from.plusDays(i);
                v[i] = r.sum(dimension, d.atStartOfDay(zone).toInstant(), d.plusDays(1).atStartOfDay(zone).toInstant());
            }
        }
        return DailySeries.of(from, v);
    }

    @Override
    public long between(String budgetId, Dimension dimension, Instant from, Instant to) {
        Ring r = budgets.get(budgetId);
        return r == null ? 0 : r.sum(dimension, from, to);
    }

    /** Hourly buckets of one budget. */
    private static final class Ring {
        private final long[] ids;
        private final long[] input;
        private final long[] output;

        Ring(int hours) {
            ids = new long[hours];
            java.util.Arrays.fill(ids, Long.MIN_VALUE);
            input = new long[hours];
            output = new long[hours];
        }

        synchronized void add(long hour, long in, long out) {
            int i = (int) Math.floorMod(hour, (long) ids.length);
            if (ids[i] != hour) {
                if (ids[i] > hour) {
                    return; // older than what the ring keeps
                }
                ids[i] = hour;
                input[i] = 0;
                output[i] = 0;
            }
            input[i] += in;
            output[i] += out;
        }

        /** Sum of the whole hours starting in [from, to). */
        synchronized long sum(Dimension d, Instant from, Instant to) {
            long a = Math.floorDiv(from.toEpochMilli() + HOUR_MS - 1, HOUR_MS);
            long b = Math.floorDiv(to.toEpochMilli() + HOUR_MS - 1, HOUR_MS);
            long s = 0;
            for (long h = Math.max(a, b - ids.length); h < b; h++) {
                int i = (int) Math.floorMod(h, (long) ids.length);
                if (ids[i] == h) {
                    s += switch (d) {
                        case INPUT -> input[i];
                        case OUTPUT -> output[i];
                        case TOTAL -> input[i] + output[i];
                    };
                }
            }
            return s;
        }
    }
}
