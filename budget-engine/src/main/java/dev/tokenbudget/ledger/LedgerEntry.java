package dev.tokenbudget.ledger;

import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.Objects;

/**
 * One recorded move of tokens between budgets' allocations: a rebalance contribution from a
 * child to its parent's pool, or a hold made or removed. Entries are appended by the store in the
 * same atomic step as the move itself, numbered per budget tree from 1 without gaps, and never
 * changed.
 *
 * @param treeId  the budget tree (its root budget)
 * @param seq     position in the tree's ledger, from 1
 * @param at      when (the engine's clock)
 * @param kind    what happened
 * @param from    the budget whose tokens moved (the giving child; the holding budget)
 * @param to      where they went (the parent whose pool received them; the hold's beneficiary, or
 *                null for a hold kept from everybody)
 * @param window  the window instance ({@code month:2026-05})
 * @param tokens  how many, per dimension
 * @param actor   who: {@code rebalance} for the automatic step, else the caller of the engine API
 * @param reason  why, in words
 * @param ref     the rebalance ({@code <parent>/<window>}) or the hold id the entry belongs to
 */
public record LedgerEntry(String treeId, long seq, Instant at, Kind kind, String from, String to, String window,
                          TokenCounts tokens, String actor, String reason, String ref) {

    /** What an entry records. */
    public enum Kind {
        /** Unused allocation a child gave to its parent's overflow pool. */
        REBALANCE,
        /** Tokens held back for a child or for the end of a window. */
        HOLD_CREATED,
        /** A hold removed before its end; its tokens are free again. */
        HOLD_DELETED
    }

    public LedgerEntry {
        Objects.requireNonNull(treeId, "treeId");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(tokens, "tokens");
    }
}
