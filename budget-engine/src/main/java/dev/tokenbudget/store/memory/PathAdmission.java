package dev.tokenbudget.store.memory;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.AllocationUse;
import dev.tokenbudget.store.BindingCause;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotAllocation;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The admission rule over a request's path, cross-team allocation included (docs/allocation.md;
 * reserve.lua implements the same rule for Redis). At every slot and capped dimension, with
 * {@code committed = used + reserved}:
 * <pre>
 *   own     = cap − given                     (given: what the slot gave to its parent's pool)
 *   draw    = overflow ? min(overflowCap, poolCapacity − poolUsed + currentDraw) : 0
 *   held    = Σ unconsumed tokens of holds in force on the slot for budgets not on the path
 *   admit  ⇔ committed + request + held ≤ own + draw
 * </pre>
 * Guarded by the tree's lock, like everything in {@link InMemoryBudgetStore}.
 */
final class PathAdmission {

    private static final Dimension[] DIMS = Dimension.values();

    /** A refusal: where, in which dimension, why, and how much that slot could still admit. */
    record Refusal(int slot, Dimension dimension, BindingCause cause, long room) {
    }

    private final List<Slot> slots;
    private final WindowState[] states;
    private final long[] req;
    private final Instant now;

    PathAdmission(List<Slot> slots, WindowState[] states, long[] req, Instant now) {
        this.slots = slots;
        this.states = states;
        this.req = req;
        this.now = now;
    }

    /** Whether a budget is on this path: a scan of a handful of slots, no set built per request. */
    private boolean onPath(String budgetId) {
        for (Slot s : slots) {
            if (s.budgetId().equals(budgetId)) {
                return true;
            }
        }
        return false;
    }

    /** The first slot that refuses, or null when every slot admits. */
    Refusal check() {
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            WindowState w = states[i];
            SlotAllocation a = s.allocation();
            long[] used = w.usedSum(s.window().bucket());
            long[] held = a.isNone() && w.holds.isEmpty() ? null : blockingHolds(s, w);
            for (Dimension d : DIMS) {
                long cap = s.caps().get(d);
                if (cap == Limits.NONE) {
                    continue;
                }
                int k = d.ordinal();
                long committed = used[k] + w.reserved[k];
                long own = a.isLinked() ? Math.max(0, cap - w.given[k]) : cap;
                long poolLeft = 0;
                long draw = 0;
                if (a.overflow()) {
                    poolLeft = poolLeft(i, k);
                    long oc = a.overflowCap().get(d);
                    draw = oc == Limits.NONE ? poolLeft : Math.min(oc, poolLeft);
                }
                long h = held == null ? 0 : held[k];
                long room = own + draw - h - committed;
                if (req[k] > room) {
                    return new Refusal(i, d, cause(a, d, committed, own, draw, h, poolLeft), Math.max(0, room));
                }
            }
        }
        return null;
    }

    /**
     * Whether, with this request counted, some slot's used + reserved tokens reach its line in some
     * dimension ({@link dev.tokenbudget.store.LowerCeiling}); a window on the path twice counts it twice.
     */
    boolean reaches(List<Limits> lines) {
        for (int i = 0; i < slots.size(); i++) {
            Limits line = lines.get(i);
            WindowState w = states[i];
            long times = 0;
            for (WindowState other : states) {
                times += other == w ? 1 : 0;
            }
            long[] used = w.usedSum(slots.get(i).window().bucket());
            for (Dimension d : DIMS) {
                int k = d.ordinal();
                if (line.has(d) && used[k] + w.reserved[k] + times * req[k] >= line.get(d)) {
                    return true;
                }
            }
        }
        return false;
    }

    private BindingCause cause(SlotAllocation a, Dimension d, long committed, long own, long draw, long held,
                               long poolLeft) {
        int k = d.ordinal();
        if (held > 0 && committed + req[k] <= own + draw) {
            return BindingCause.HOLD;
        }
        if (a.overflow() && committed + req[k] > own) {
            long oc = a.overflowCap().get(d);
            return oc != Limits.NONE && oc <= poolLeft ? BindingCause.OVERFLOW_CAP : BindingCause.POOL;
        }
        return BindingCause.CAP;
    }

    /** What the parent's pool can still give this child: capacity − used + the child's own current draw. */
    private long poolLeft(int child, int k) {
        int p = slots.get(child).allocation().parent();
        WindowState pool = states[p];
        long capacity = slots.get(p).allocation().headroom().get(DIMS[k]) + pool.contributions[k];
        return Math.max(0, capacity - pool.poolUsed[k] + states[child].draw[k]);
    }

    /** Per dimension, the unconsumed tokens of holds in force on a slot for budgets not on the path. */
    private long[] blockingHolds(Slot s, WindowState w) {
        long[] out = new long[3];
        for (Hold h : holds(s, w)) {
            if (h.forBudget() != null && onPath(h.forBudget())) {
                continue;
            }
            long[] left = unconsumed(h, w);
            for (int k = 0; k < 3; k++) {
                out[k] += left[k];
            }
        }
        return out;
    }

    private List<Hold> holds(Slot s, WindowState w) {
        List<Hold> out = new ArrayList<>(s.allocation().holds().size() + w.holds.size());
        for (Hold h : s.allocation().holds()) {
            if (h.activeAt(now)) {
                out.add(h);
            }
        }
        for (Hold h : w.holds.values()) {
            if (h.activeAt(now)) {
                out.add(h);
            }
        }
        return out;
    }

    /** A hold's tokens its beneficiary has not consumed yet (all of them for a hold without one). */
    private static long[] unconsumed(Hold h, WindowState w) {
        long[] m = h.forBudget() == null ? new long[3] : w.mirror(h.forBudget());
        TokenCounts t = h.tokens();
        return new long[] {Math.max(0, t.input() - m[0]), Math.max(0, t.output() - m[1]),
            Math.max(0, t.total() - m[2])};
    }

    /**
     * Charges the reservation to every slot and brings the allocation state along (draws, pool
     * usage, mirrors); returns where it drew pool tokens or used held tokens.
     */
    List<AllocationUse> apply() {
        List<AllocationUse> uses = heldUses();
        for (WindowState w : states) {
            for (int k = 0; k < 3; k++) {
                w.reserved[k] += req[k];
            }
        }
        for (int i = 0; i < slots.size(); i++) {
            SlotAllocation a = slots.get(i).allocation();
            long[] pooled = a.isLinked() ? follow(slots.get(i), states[i], states[a.parent()]) : null;
            if (pooled != null && (pooled[0] > 0 || pooled[1] > 0 || pooled[2] > 0)) {
                uses = uses.isEmpty() ? new ArrayList<>(2) : uses;
                uses.add(new AllocationUse(i, new TokenCounts(Math.max(0, pooled[0]), Math.max(0, pooled[1]),
                        Math.max(0, pooled[2])), TokenCounts.ZERO));
            }
        }
        return uses;
    }

    /** Held tokens this request takes at each holding slot, before mirrors move; an immutable empty list for none. */
    private List<AllocationUse> heldUses() {
        List<AllocationUse> uses = List.of();
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            WindowState w = states[i];
            if (s.allocation().holds().isEmpty() && w.holds.isEmpty()) {
                continue;
            }
            long[] taken = new long[3];
            for (Hold h : holds(s, w)) {
                if (h.forBudget() != null && onPath(h.forBudget())) {
                    long[] left = unconsumed(h, w);
                    for (int k = 0; k < 3; k++) {
                        taken[k] += Math.min(req[k], left[k]);
                    }
                }
            }
            if (taken[0] > 0 || taken[1] > 0 || taken[2] > 0) {
                uses = uses.isEmpty() ? new ArrayList<>(2) : uses;
                uses.add(new AllocationUse(i, TokenCounts.ZERO, new TokenCounts(taken[0], taken[1], taken[2])));
            }
        }
        return uses;
    }

    /**
     * After a slot's used or reserved tokens changed: recomputes its draw from the parent's pool
     * (moving the pool's usage by the difference) and mirrors its committed tokens into the
     * parent. Returns the change of its draw, or null for a slot that is not linked.
     */
    static long[] follow(Slot s, WindowState w, WindowState parent) {
        SlotAllocation a = s.allocation();
        if (!a.isLinked()) {
            return null;
        }
        long[] used = w.usedSum(s.window().bucket());
        long[] committed = new long[3];
        long[] delta = new long[3];
        for (int k = 0; k < 3; k++) {
            committed[k] = used[k] + w.reserved[k];
            long cap = s.caps().get(DIMS[k]);
            long draw = a.overflow() && cap != Limits.NONE ? Math.max(0, committed[k] - Math.max(0, cap - w.given[k]))
                    : 0;
            delta[k] = draw - w.draw[k];
            parent.poolUsed[k] += delta[k];
            w.draw[k] = draw;
        }
        parent.mirrors.put(s.budgetId(), committed);
        return delta;
    }
}
