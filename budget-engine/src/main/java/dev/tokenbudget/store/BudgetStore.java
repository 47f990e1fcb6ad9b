package dev.tokenbudget.store;

import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Storage SPI of the budget engine: where used and reserved tokens live.
 *
 * <p>A store makes three promises, which the conformance suite ({@code AbstractBudgetStoreTest}
 * in this module's test jar) checks for every implementation:
 * <ul>
 *   <li>{@link #reserve} is atomic over all slots of the path: either every cap admits and every
 *       slot is charged, or nothing changes;</li>
 *   <li>{@link #settle} applies a lease at most once: a second settle, a release after a settle,
 *       or a settle after the lease expired, change nothing;</li>
 *   <li>a lease not settled by its expiry is charged at its reserved amount (never less), exactly
 *       once, and reported as a {@link LeaseExpiry} by whichever call found it.</li>
 * </ul>
 * Threshold crossings are detected by the store on settled usage so that each fires once per
 * budget, window and limit, however many engines share the store. Methods may throw
 * {@link StoreUnavailableException}; any other exception is a bug.
 */
public interface BudgetStore extends AutoCloseable {

    /** What a store can do, so that engines and adapters adapt instead of guessing. */
    enum Capability {
        /** State is shared by every process that points at the same store. */
        SHARED,
        /** Calls may block on network I/O: reactive hosts should call off their event loop. */
        BLOCKING_IO,
        /** Lease expiry is timed by the store's own clock, not the command's {@code now}. */
        SERVER_TIME,
        /**
         * Cross-team allocation: {@link SlotAllocation}s on reservations (pool draws, holds,
         * mirrors), {@link #rebalance}, {@link #changeHold}, {@link #readAllocation} and {@link #ledger}.
         */
        ALLOCATION,
        /**
         * {@link #reserveAsync} and {@link #settleAsync} never block the calling thread (the store
         * overrides them with non-blocking I/O), so reactive hosts may call them on their event
         * loop; the other methods may still block ({@link #BLOCKING_IO}).
         */
        ASYNC_DECISIONS
    }

    Set<Capability> capabilities();

    ReserveResult reserve(ReserveCommand command);

    SettleResult settle(SettleCommand command);

    /**
     * {@link #reserve} as a stage: completes with the result, or exceptionally with what
     * {@link #reserve} would throw. The default runs {@link #reserve} on the calling thread; a
     * store with {@link Capability#ASYNC_DECISIONS} returns at once and completes the stage from
     * its own I/O thread, so a dependent stage must not block (nor call the blocking methods).
     */
    default CompletionStage<ReserveResult> reserveAsync(ReserveCommand command) {
        try {
            return CompletableFuture.completedFuture(reserve(command));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** {@link #settle} as a stage, as {@link #reserveAsync} is {@link #reserve}'s. */
    default CompletionStage<SettleResult> settleAsync(SettleCommand command) {
        try {
            return CompletableFuture.completedFuture(settle(command));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Current used and reserved tokens of each slot (same order); absent windows read as empty. */
    List<SlotState> read(String treeId, List<Slot> slots, Instant now);

    /** Settles every lease expired at {@code now}, in every tree, and forgets dead windows. */
    List<LeaseExpiry> expireLeases(Instant now);

    /**
     * Claims the rebalance of a pool window instance and, if this call claimed it, moves the
     * children's contributions into the pool and records them in the ledger, all in one atomic
     * step (see {@link RebalanceCommand}). A claimed rebalance is never run again.
     */
    default RebalanceCommand.Result rebalance(RebalanceCommand command) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not support allocation");
    }

    /** Creates or deletes a run-time hold and records it in the ledger, atomically. */
    default HoldCommand.Result changeHold(HoldCommand command) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not support allocation");
    }

    /**
     * The pool of a window instance ({@code parent}) and what its linked {@code children} gave and
     * draw; run-time holds that ended by {@code now} are left out.
     */
    default AllocationState readAllocation(String treeId, Slot parent, List<Slot> children, Instant now) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not support allocation");
    }

    /**
     * Up to {@code max} entries of a tree's ledger numbered after {@code afterSeq}, oldest first,
     * with the number of its newest entry. Rebalances and holds append to it themselves.
     */
    default LedgerPage ledger(String treeId, long afterSeq, int max) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not support allocation");
    }

    /**
     * Appends a change to a tree's ledger (numbered from 1 per tree, without gaps), unless a change
     * with the same idempotency key was recorded before: then returns that earlier entry.
     */
    default LedgerEntry appendLedger(String treeId, Instant at, LedgerChange change) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not support allocation");
    }

    /**
     * Saves a run-time limit change so that every engine on this store applies it (see
     * {@link #limitOverrides}); the change replaces any earlier one of the same budget window.
     *
     * @return the change's version, higher than every version saved before; 0 from a store that
     *         keeps no limit changes (the default), whose engines apply a change only themselves
     * @throws StoreUnavailableException when it cannot be saved (then nothing was saved)
     */
    default long saveLimits(LimitOverride change) {
        return 0;
    }

    /**
     * The latest limit change of every budget window when any was saved after {@code knownVersion},
     * else {@link LimitOverrides#unchanged} with the current version. One cheap call, for engines to
     * poll. A store that keeps no limit changes (the default) never has any.
     */
    default LimitOverrides limitOverrides(long knownVersion) {
        return LimitOverrides.unchanged(0);
    }

    /**
     * Registers a listener for {@link StoreIncident incidents} the store handled itself (the engine
     * turns them into store-failure events). Stores that cannot have any ignore it.
     */
    default void onIncident(Consumer<StoreIncident> listener) {
        // nothing can happen to an embedded store that it would need to report
    }

    @Override
    void close();
}
