package dev.tokenbudget.store;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Rebalance one pool window once: the store claims the rebalance of {@code parent}'s window
 * instance (so it runs once however many engines ask) and, in the same atomic step, moves from
 * each child whose used + reserved tokens are below {@code belowPercent} of its limit (per
 * dimension, rounded down) {@code floor(unused × sharePercent / 100)}, at most
 * {@code floor(limit × maxPercent / 100)} less what it gave before, into the pool, where
 * {@code unused = max(0, limit − given − used − reserved)}; and appends one ledger entry per move.
 *
 * @param treeId        the budget tree
 * @param now           the engine's time (ledger timestamps)
 * @param parent        the pool window
 * @param children      the linked children's windows of the same span (their limits are their allocations)
 * @param belowPercent  utilisation under which a child gives
 * @param sharePercent  part of its unused allocation a child gives
 * @param maxPercent    most a child gives in a window, in percent of its limit
 * @param reason        the rule, in words, recorded with every move
 */
public record RebalanceCommand(String treeId, Instant now, Slot parent, List<Slot> children, int belowPercent,
                               int sharePercent, int maxPercent, String reason) {

    public RebalanceCommand {
        Objects.requireNonNull(treeId, "treeId");
        Objects.requireNonNull(now, "now");
        Objects.requireNonNull(parent, "parent");
        Objects.requireNonNull(reason, "reason");
        children = List.copyOf(children);
        if (parent.window().isRolling()) {
            throw new IllegalArgumentException("rebalance of " + parent.key() + ": pools live in calendar windows");
        }
        for (int p : new int[] {belowPercent, sharePercent, maxPercent}) {
            if (p < 1 || p > 100) {
                throw new IllegalArgumentException("rebalance percents must be in 1..100, was " + p);
            }
        }
    }

    /** What a rebalance did: whether this call claimed it, and the moves it made (empty when not claimed). */
    public record Result(boolean claimed, List<dev.tokenbudget.ledger.LedgerEntry> moves) {
        public Result {
            moves = List.copyOf(moves);
        }
    }
}
