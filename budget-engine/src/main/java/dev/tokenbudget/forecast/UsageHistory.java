package dev.tokenbudget.forecast;

import dev.tokenbudget.budget.Dimension;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;

/**
 * A budget's past usage, kept next to its store: settled tokens in hourly buckets (90 days), read
 * per day and within today. The engine records every settlement and expired lease into it
 * ({@link InMemoryUsageHistory} for the in-memory store, {@code RedisUsageHistory} for Redis,
 * shared by every instance). Implementations must be thread-safe and must not block for long:
 * recording happens on settlement, forecasts run off the request path on a shared thread.
 */
public interface UsageHistory {

    /** Adds settled usage at {@code at} to every budget in {@code budgetIds}. */
    void record(java.util.Collection<String> budgetIds, Instant at, long input, long output);

    /**
     * Tokens of {@code dimension} used by {@code budgetId} on each day from {@code from}
     * (inclusive) to {@code to} (exclusive), days taken in {@code zone}; days without usage or
     * beyond what is kept are 0.
     */
    DailySeries daily(String budgetId, Dimension dimension, ZoneId zone, LocalDate from, LocalDate to);

    /** Tokens of {@code dimension} used by {@code budgetId} from {@code from} (inclusive) to {@code to}. */
    long between(String budgetId, Dimension dimension, Instant from, Instant to);
}
