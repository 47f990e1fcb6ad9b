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
 * to the store with {@code spent} once it is retired and nothing is carved any more. The states a
 * carved request reports count the path's other blocks that the store held at this one's
 * reservation (a block reserved ahead while the last one still takes requests) the same way.
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

    /**
     * This path's blocks that Redis held in full when this one was reserved and that are not settled
     * to it yet: their sizes are left out of {@link #base}, their requests counted as the store would
     * count them one by one (what they used as used, what is in flight as reserved).
     */
    private final List<PathBlock> siblings;
    /** Where {@link #low} starts: less than this left of the block, in input or output. */
    private final long lowIn;
    private final long lowOut;

    PathBlock(PathBlocks path, String leaseId, TokenCounts size, Instant expiresAt, long reservedAtNanos,
              List<SlotState> withBlock, List<PathBlock> siblings, double renewBelow) {
        this.path = path;
        this.leaseId = leaseId;
        this.size = size;
        this.expiresAt = expiresAt;
        this.reservedAtNanos = reservedAtNanos;
        this.siblings = new ArrayList<>(siblings);
        TokenCounts held = size;
        for (PathBlock s : siblings) {
            held = held.plus(s.size);
        }
        List<SlotState> b = new ArrayList<>(withBlock.size());
        for (SlotState s : withBlock) {
            TokenCounts r = s.reserved();
            b.add(new SlotState(s.used(), new TokenCounts(r.input() - held.input(), r.output() - held.output(),
                    r.total() - held.total())));
        }
        this.base = b;
        this.lowIn = (long) Math.ceil(renewBelow * size.input());
        this.lowOut = (long) Math.ceil(renewBelow * size.output());
    }

    /**
     * {@code sibling} was settled to the store: what it used is used there now, and it no longer
     * holds its size, which {@link #base} already leaves out.
     */
    void absorb(PathBlock sibling) {
        if (!siblings.remove(sibling)) {
            return;
        }
        TokenCounts spent = TokenCounts.of(sibling.spentIn, sibling.spentOut);
        for (int i = 0; i < base.size(); i++) {
            SlotState s = base.get(i);
            base.set(i, new SlotState(s.used().plus(spent), s.reserved()));
        }
    }

    /** Whether less than the low-water share of the block is left: time to reserve the next one. */
    boolean low() {
        return size.input() - spentIn - carvedIn < lowIn || size.output() - spentOut - carvedOut < lowOut;
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
        TokenCounts add = carved().plus(TokenCounts.of(in, out));
        TokenCounts spent = spent();
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
        TokenCounts spent = spent();
        TokenCounts carved = carved();
        for (SlotState s : base) {
            states.add(new SlotState(s.used().plus(spent), s.reserved().plus(carved)));
        }
        return states;
    }

    /** What this block's and its siblings' settled requests used. */
    private TokenCounts spent() {
        return sum(true);
    }

    /** What this block's and its siblings' requests in flight hold. */
    private TokenCounts carved() {
        return sum(false);
    }

    private TokenCounts sum(boolean spent) {
        long in = spent ? spentIn : carvedIn;
        long out = spent ? spentOut : carvedOut;
        for (PathBlock s : siblings) {
            in += spent ? s.spentIn : s.carvedIn;
            out += spent ? s.spentOut : s.carvedOut;
        }
        return TokenCounts.of(in, out);
    }

    /**
     * A request carved from the block settled ({@code used} null: released). Usage above its
     * reservation that the block no longer covers retires it: the store must count it (and find the
     * thresholds it crosses) before the next decision, in this settle when nothing else is in flight.
     *
     * @return whether the block now holds less than its requests used and hold
     */
    boolean settle(long reservedIn, long reservedOut, TokenCounts used) {
        carvedIn -= reservedIn;
        carvedOut -= reservedOut;
        if (used != null) {
            spentIn += used.input();
            spentOut += used.output();
            if (spentIn + carvedIn > size.input() || spentOut + carvedOut > size.output()) {
                open = false;
                return true;
            }
        }
        return false;
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
