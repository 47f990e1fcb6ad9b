package dev.tokenbudget.ledger;

import java.time.Instant;
import java.util.List;

/**
 * The append-only record of every change to budgets' envelopes (limit changes, reservations,
 * rebalances): who, when, what before and after, and why. Entries are never changed or removed
 * by the API; a change carrying an idempotency key that is already recorded is not recorded
 * again, so a retried step (a rebalance replayed after a crash) appears once.
 *
 * <p>{@link #inMemory()} keeps the ledger in the process; a store-backed ledger shared by every
 * gateway instance comes with the shared stores. Implementations are thread-safe.
 */
public interface Ledger {

    /**
     * Records a change at {@code at} and returns its entry; when {@code change.idempotencyKey()}
     * was recorded before, returns that earlier entry instead and records nothing.
     */
    LedgerEntry append(Instant at, LedgerChange change);

    /** Up to {@code max} entries numbered after {@code seq}, oldest first, for {@code budgetId} or all when null. */
    List<LedgerEntry> after(long seq, int max, String budgetId);

    /** Sequence number of the newest entry, 0 when empty. */
    long lastSeq();

    /** A ledger in this process's memory. */
    static Ledger inMemory() {
        return new InMemoryLedger();
    }
}
