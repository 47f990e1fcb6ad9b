package dev.tokenbudget.store.block;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.LowerCeiling;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The blocks of one path (tree and slots, windows and limits included: a new window, bucket or
 * limit is a new path): the open one, the next one reserved ahead, those retired but not yet settled
 * to the store, the reservation of a block in flight, and what the store last showed of the path,
 * to size the next block. Its monitor guards all of it.
 */
final class PathBlocks {

    private static final Dimension[] DIMS = Dimension.values();

    final String treeId;
    final List<Slot> slots;
    final List<String> budgetIds;
    /** Blocks the store holds and that are not yet settled to it (open, next and retired ones). */
    final List<PathBlock> live = new ArrayList<>(2);
    /** The block requests are reserved from, or null. */
    PathBlock open;
    /** A block reserved ahead, taking requests once {@link #open} is retired, or null. */
    PathBlock next;
    /** The reservation of the path's next block, while the store has not answered it; else null. */
    BlockRenewal renewing;
    /** The store's last states of this path, or null before the first decision. */
    List<SlotState> seen;
    /** Until when (nanoTime) requests go to the store one by one: the path is near a line. */
    long coolUntilNanos;
    long lastUsedNanos;
    /** Dropped by the sweeper (no live block, idle): a caller holding it looks the path up again. */
    boolean removed;

    PathBlocks(String treeId, List<Slot> slots) {
        this.treeId = treeId;
        this.slots = slots;
        LinkedHashSet<String> ids = new LinkedHashSet<>();
        for (Slot s : slots) {
            ids.add(s.budgetId());
        }
        this.budgetIds = List.copyOf(ids);
    }

    /**
     * How many requests of {@code c}'s size the next block holds: {@code share} of the smallest room
     * any window has below its caps and the thresholds its used tokens have not reached, at most
     * {@code max}; below 2, blocks would not pay and the path goes one by one.
     */
    long size(ReserveCommand c, double share, int max) {
        if (seen == null) {
            return 0;
        }
        long room = Long.MAX_VALUE;
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            SlotState st = seen.get(i);
            for (Dimension d : DIMS) {
                long ask = d == Dimension.INPUT ? c.input() : d == Dimension.OUTPUT ? c.output()
                        : c.input() + c.output();
                if (ask == 0) {
                    continue;
                }
                long free = Math.max(0, below(s, st.used().get(d), d, c.lower() == null ? Limits.NONE
                        : c.lower().lines().get(i).get(d)) - st.committed().get(d));
                room = Math.min(room, free / ask);
            }
        }
        return room == Long.MAX_VALUE ? max : Math.min(max, (long) (room * share));
    }

    /**
     * The first level of used + reserved in dimension {@code d} the block must stay strictly below:
     * the cap (which it may reach), the next threshold above {@code used} and the degrade line.
     */
    private static long below(Slot s, long used, Dimension d, long line) {
        long top = Long.MAX_VALUE;
        long cap = s.caps().get(d);
        if (cap != Limits.NONE) {
            top = cap + 1;
        }
        long lim = s.limits().get(d);
        if (lim != Limits.NONE) {
            for (int p : s.thresholds()) {
                if (used * 100 < (long) p * lim) {
                    top = Math.min(top, ceilDiv((long) p * lim, 100));
                }
            }
        }
        if (line != Limits.NONE) {
            top = Math.min(top, line);
        }
        return top;
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    /**
     * Whether a block admitted with {@code states} (its tokens counted as reserved) stays clear of
     * every line: no threshold that used tokens have not reached, and no degrade line, can be
     * reached while its tokens settle, so no decision carved from it differs from the store's.
     */
    boolean clear(List<SlotState> states, LowerCeiling lower) {
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            SlotState st = states.get(i);
            for (Dimension d : DIMS) {
                long top = below(s, st.used().get(d), d, lower == null ? Limits.NONE : lower.lines().get(i).get(d));
                if (st.committed().get(d) >= top) {
                    return false;
                }
            }
        }
        return true;
    }
}
