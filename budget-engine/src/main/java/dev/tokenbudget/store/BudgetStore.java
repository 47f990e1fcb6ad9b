package dev.tokenbudget.store;

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
 * budget, window and limit, however many engines share the store. Cross-team allocation, the
 * ledger and run-time limits are the {@link AllocationStore} half. Methods may throw
 * {@link StoreUnavailableException}; any other exception is a bug.
 */
public interface BudgetStore extends AllocationStore, AutoCloseable {

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
     * Registers a listener for {@link StoreIncident incidents} the store handled itself (the engine
     * turns them into store-failure events). Stores that cannot have any ignore it.
     */
    default void onIncident(Consumer<StoreIncident> listener) {
        // nothing can happen to an embedded store that it would need to report
    }

    @Override
    void close();
}
