package dev.tokenbudget.store.memory;

import dev.tokenbudget.budget.Dimension;

/** The per-dimension facts a rebalance records with each move (rebalance.lua writes the same words). */
final class RebalanceFacts {

    private RebalanceFacts() {
    }

    static String of(Dimension d, long committed, long limit, long unused) {
        return "; " + d.label() + ": " + committed + " of " + limit + " used or reserved, " + unused + " unused";
    }
}
