package dev.tokenbudget.alert;

import dev.tokenbudget.budget.Dimension;

import java.time.Instant;
import java.util.Objects;

/**
 * One alert about one budget window, as every sink receives it.
 *
 * @param id          unique per alert and stable across retries and instances (receivers dedupe on it)
 * @param kind        a threshold reached, a projected overrun, or a window that ended
 * @param severity    how urgent
 * @param at          when the alert was raised
 * @param budgetId    the budget
 * @param window      the window instance's key (e.g. {@code month:2026-11}, {@code rolling-7d})
 * @param windowStart start of the window instance
 * @param windowEnd   when it resets (rolling: end of the current bucket)
 * @param dimension   the limited dimension the alert is about (input, output or total)
 * @param used        tokens used in the window
 * @param limit       the limit
 * @param percent     used in percent of the limit
 * @param threshold   the threshold in percent that fired (100 for a projected overrun of the limit)
 * @param projection  the end-of-window projection with its bands, or null when none could be made
 * @param exhaustion  when the limit is projected to be reached, or null
 * @param trendPercent usage of the last 7 days against the 7 before, in percent, or null
 * @param action      the recommended action, in words
 */
public record Alert(String id, Kind kind, Severity severity, Instant at, String budgetId, String window,
                    Instant windowStart, Instant windowEnd, Dimension dimension, long used, long limit, double percent,
                    int threshold, Projection projection, Instant exhaustion, Double trendPercent, String action) {

    /** What happened. */
    public enum Kind {
        /** A threshold (75/90/100% by default) was reached. */
        THRESHOLD,
        /** The projection says the limit will be reached before the window ends. */
        PREDICTED,
        /** The window of earlier alerts ended (PagerDuty resolves its incident). */
        RESOLVED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** How urgent. */
    public enum Severity {
        INFO,
        WARNING,
        CRITICAL;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Projected end-of-window consumption (tokens) with its 80% and 95% bands. */
    public record Projection(long expected, long lower80, long upper80, long lower95, long upper95) {
    }

    public Alert {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(budgetId, "budgetId");
        Objects.requireNonNull(window, "window");
    }

    /**
     * Groups the alerts of one budget window instance: PagerDuty's {@code dedup_key}, so that 75,
     * 90 and 100% of one month are one incident, resolved when the next month starts.
     */
    public String dedupKey() {
        return "tokenbudget/" + budgetId + "/" + window;
    }

    /** One line for titles, subjects and logs. */
    public String summary() {
        return switch (kind) {
            case THRESHOLD -> "Budget " + budgetId + " reached " + threshold + "% of its " + dimension.label()
                    + " limit in " + window;
            case PREDICTED -> "Budget " + budgetId + " is projected to reach its " + dimension.label() + " limit in "
                    + window + (exhaustion == null ? "" : " on " + exhaustion);
            case RESOLVED -> "Budget " + budgetId + ": window " + window + " ended";
        };
    }
}
