package dev.tokenbudget.store.block;

import dev.tokenbudget.store.LowerCeiling;
import dev.tokenbudget.store.ReserveCommand;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A block's reservation in flight: what was asked of the store, the path's blocks the store held
 * then, and the stage requests wait on when their path has no block left ({@link #done}, completed
 * once the block is in place or given back, exceptionally when the store failed).
 */
final class BlockRenewal {

    final PathBlocks path;
    final ReserveCommand command;
    /** The lower output ceiling of the request that asked for the block (its degrade lines), or null. */
    final LowerCeiling lower;
    final List<PathBlock> siblings;
    final long reservedAtNanos;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    /**
     * Set when the path's blocks were retired while this one was on its way (usage beyond a block,
     * a new path of the same budgets, close): it is given back as soon as the store answers.
     */
    boolean voided;

    BlockRenewal(PathBlocks path, ReserveCommand command, LowerCeiling lower, List<PathBlock> siblings,
                 long reservedAtNanos) {
        this.path = path;
        this.command = command;
        this.lower = lower;
        this.siblings = siblings;
        this.reservedAtNanos = reservedAtNanos;
    }
}
