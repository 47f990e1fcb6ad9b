package dev.tokenbudget.store;

import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;

import java.time.Instant;
import java.util.List;

/**
 * The part of a {@link BudgetStore} that serves cross-team allocation (pool rebalances, run-time
 * holds), the ledger that records them, and run-time limit changes shared by every engine on the
 * store. A store without {@link BudgetStore.Capability#ALLOCATION} keeps the defaults: allocation
 * calls are refused and no limit change is kept.
 */
public interface AllocationStore {

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

    /** An allocation store that passes every call to another, for stores that keep allocation elsewhere. */
    interface Forwarding extends AllocationStore {

        /** Where the calls go. */
        AllocationStore allocations();

        @Override
        default RebalanceCommand.Result rebalance(RebalanceCommand command) {
            return allocations().rebalance(command);
        }

        @Override
        default HoldCommand.Result changeHold(HoldCommand command) {
            return allocations().changeHold(command);
        }

        @Override
        default AllocationState readAllocation(String treeId, Slot parent, List<Slot> children, Instant now) {
            return allocations().readAllocation(treeId, parent, children, now);
        }

        @Override
        default LedgerPage ledger(String treeId, long afterSeq, int max) {
            return allocations().ledger(treeId, afterSeq, max);
        }

        @Override
        default LedgerEntry appendLedger(String treeId, Instant at, LedgerChange change) {
            return allocations().appendLedger(treeId, at, change);
        }

        @Override
        default long saveLimits(LimitOverride change) {
            return allocations().saveLimits(change);
        }

        @Override
        default LimitOverrides limitOverrides(long knownVersion) {
            return allocations().limitOverrides(knownVersion);
        }
    }
}
