package dev.tokenbudget.store.block;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.LowerCeiling;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One block: a lease in the store of {@code size} tokens on every window of a path, out of which
 * requests are reserved in memory. Guarded by its {@link PathBlocks}' lock.
 *
 * <p>The store counts the whole block as reserved. In memory it is split into what settled requests
 * used ({@code spent}) and what requests in flight reserved ({@code carved}); the block is settled
 * to the store with {@code spent} once it is retired and nothing is carved any more.
 */
final class PathBlock {

    final PathBlocks path;
    final String leaseId;
    final TokenCounts size;
    /** When the block's lease runs out in the store (engine clock); every request carved expires before. */
    final Instant expiresAt;
    final long reservedAtNanos;
    /** Per slot, used and reserved in the store when the block was reserved, without the block. */
    final List<SlotState> base;
    long spentIn;
    long spentOut;
    long carvedIn;
    long carvedOut;
    boolean open = true;
    boolean flushed;

    PathBlock(PathBlocks path, String leaseId, TokenCounts size, Instant expiresAt, long reservedAtNanos,
              List<SlotState> withBlock) {
        this.path = path;
        this.leaseId = leaseId;
        this.size = size;
        this.expiresAt = expiresAt;
        this.reservedAtNanos = reservedAtNanos;
        List<SlotState> b = new ArrayList<>(withBlock.size());
        for (SlotState s : withBlock) {
            TokenCounts r = s.reserved();
            b.add(new SlotState(s.used(), new TokenCounts(r.input() - size.input(), r.output() - size.output(),
                    r.total() - size.total())));
        }
        this.base = b;
    }

    /** Whether {@code c} fits in what is left of the block, decided in memory exactly as the store would. */
    boolean fits(ReserveCommand c, long nowNanos, long flushNanos) {
        if (!open || nowNanos - reservedAtNanos >= flushNanos || c.leaseExpiresAt().isAfter(expiresAt)
                || spentIn + carvedIn + c.input() > size.input()
                || spentOut + carvedOut + c.output() > size.output()) {
            return false;
        }
        return c.lower() == null || belowLines(c.lower(), c.input(), c.output());
    }

    /** No slot reaches its degrade line with {@code c} counted: the store would reserve c's own output. */
    private boolean belowLines(LowerCeiling lower, long in, long out) {
        TokenCounts add = TokenCounts.of(carvedIn + in, carvedOut + out);
        TokenCounts spent = TokenCounts.of(spentIn, spentOut);
        for (int i = 0; i < base.size(); i++) {
            Limits line = lower.lines().get(i);
            TokenCounts committed = base.get(i).committed().plus(spent).plus(add);
            for (Dimension d : Dimension.values()) {
                if (line.get(d) != Limits.NONE && committed.get(d) >= line.get(d)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Takes {@code in}/{@code out} out of the block; the states a store would report for it, per slot. */
    List<SlotState> carve(long in, long out) {
        carvedIn += in;
        carvedOut += out;
        List<SlotState> states = new ArrayList<>(base.size());
        TokenCounts spent = TokenCounts.of(spentIn, spentOut);
        TokenCounts carved = TokenCounts.of(carvedIn, carvedOut);
        for (SlotState s : base) {
            states.add(new SlotState(s.used().plus(spent), s.reserved().plus(carved)));
        }
        return states;
    }

    /**
     * A request carved from the block settled ({@code used} null: released). Usage above its
     * reservation that the block no longer covers retires it: the store must count it (and find the
     * thresholds it crosses) before the next decision, in this settle when nothing else is in flight.
     */
    void settle(long reservedIn, long reservedOut, TokenCounts used) {
        carvedIn -= reservedIn;
        carvedOut -= reservedOut;
        if (used != null) {
            spentIn += used.input();
            spentOut += used.output();
            if (spentIn + carvedIn > size.input() || spentOut + carvedOut > size.output()) {
                open = false;
            }
        }
    }

    /** Retired and nothing in flight: ready to be settled to the store (once). */
    boolean drained() {
        return !open && !flushed && carvedIn == 0 && carvedOut == 0;
    }

    /**
     * What the store shows for a window this block charges, corrected to what per-request leases
     * would show: the spent part as used, the rest (requests in flight, unspent) as reserved.
     */
    SlotState correct(SlotState s) {
        TokenCounts spent = TokenCounts.of(spentIn, spentOut);
        TokenCounts r = s.reserved();
        TokenCounts moved = new TokenCounts(Math.min(spentIn, size.input()), Math.min(spentOut, size.output()),
                Math.min(spent.total(), size.total()));
        return new SlotState(s.used().plus(spent), new TokenCounts(Math.max(0, r.input() - moved.input()),
                Math.max(0, r.output() - moved.output()), Math.max(0, r.total() - moved.total())));
    }
}
