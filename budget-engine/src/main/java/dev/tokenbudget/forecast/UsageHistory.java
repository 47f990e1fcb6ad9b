package dev.tokenbudget.forecast;

import dev.tokenbudget.budget.Dimension;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;

/**
 * Where the forecaster reads a budget's past usage: settled tokens per day and within today.
 *
 * <p>The store will provide this for both stores (90 days per budget, written with each
 * settlement); until then {@link InMemoryUsageHistory} keeps it in process. Implementations
 * must be thread-safe and must not block for long: forecasts run off the request path, but on
 * a shared evaluation thread.
 */
public interface UsageHistory {

    /**
     * Tokens of {@code dimension} used by {@code budgetId} on each day from {@code from}
     * (inclusive) to {@code to} (exclusive), days taken in {@code zone}; days without usage or
     * beyond what is kept are 0.
     */
    DailySeries daily(String budgetId, Dimension dimension, ZoneId zone, LocalDate from, LocalDate to);

    /** Tokens of {@code dimension} used by {@code budgetId} from {@code from} (inclusive) to {@code to}. */
    long between(String budgetId, Dimension dimension, Instant from, Instant to);
}
