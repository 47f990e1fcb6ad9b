package dev.tokenbudget.store;

import java.time.Instant;
import java.util.List;
import java.util.Set;
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
        SERVER_TIME
    }

    Set<Capability> capabilities();

    ReserveResult reserve(ReserveCommand command);

    SettleResult settle(SettleCommand command);

    /** Current used and reserved tokens of each slot (same order); absent windows read as empty. */
    List<SlotState> read(String treeId, List<Slot> slots, Instant now);

    /** Settles every lease expired at {@code now}, in every tree, and forgets dead windows. */
    List<LeaseExpiry> expireLeases(Instant now);

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
