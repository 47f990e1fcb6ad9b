package dev.tokenbudget.ledger;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One change to a budget's envelope, as recorded in the {@link Ledger}: a limit change, a
 * reservation made or cancelled, a rebalance. Amounts are token counts keyed by what they
 * measure ({@code input}, {@code output}, {@code total} for limits; {@code tokens} for a
 * reservation; whatever a rebalance moves); a key absent from {@code before} or {@code after}
 * means "none" (for a limit: unlimited).
 *
 * @param kind            what happened
 * @param budgetId        the budget changed
 * @param window          the window name ({@code month}, {@code rolling-7d}), or null when not per window
 * @param before          amounts before the change
 * @param after           amounts after the change
 * @param actor           who made it (an operator surface and its caller, or a component such as the rebalancer)
 * @param reason          free text given with the change, or null
 * @param idempotencyKey  the same key recorded twice is one change (retries of a rebalance step); null for none
 */
public record LedgerChange(Kind kind, String budgetId, String window, Map<String, Long> before,
                           Map<String, Long> after, String actor, String reason, String idempotencyKey) {

    /** What kind of change an entry records. */
    public enum Kind {
        LIMITS_CHANGED,
        RESERVATION_CREATED,
        RESERVATION_CANCELLED,
        REBALANCE
    }

    public LedgerChange {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(budgetId, "budgetId");
        Objects.requireNonNull(actor, "actor");
        // insertion order kept: input, output, total read naturally in a ledger listing
        before = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(before == null ? Map.of() : before));
        after = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(after == null ? Map.of() : after));
    }
}
