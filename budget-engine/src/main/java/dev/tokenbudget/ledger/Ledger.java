package dev.tokenbudget.ledger;

import java.util.List;

/**
 * The append-only record of allocation moves (rebalances, holds), shared by every engine on the
 * same store: read it through {@code BudgetEngine.ledger()} or {@code bin/tokenbudget ledger}.
 */
public interface Ledger {

    /** Up to {@code max} entries of one tree numbered after {@code afterSeq}, oldest first. */
    List<LedgerEntry> entries(String treeId, long afterSeq, int max);

    /** Every entry of every tree of the config, in the order they were recorded (by time, then tree and seq). */
    List<LedgerEntry> entries();
}
