package dev.tokenbudget.store;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Reserve {@code input}/{@code output} tokens on every slot of a path, all or nothing.
 *
 * <p>Every count (tokens, limits, caps) must be at most {@link TokenCounts#MAX} (2^53-1), the
 * largest integer a Lua number in Redis holds exactly; an absurd value is refused here, with a
 * message naming it, so that every store refuses the same commands.
 *
 * @param treeId          the root budget of the path; every slot belongs to this tree
 * @param leaseId         unique id of the reservation, used to settle or release it
 * @param now             the engine's wall time (stores with {@code SERVER_TIME} use their own)
 * @param leaseExpiresAt  when an unsettled reservation is settled conservatively
 * @param slots           every window of every budget on the path
 * @param input           input tokens to reserve
 * @param output          output tokens to reserve
 * @param lower           a smaller output ceiling to reserve instead when the request is degraded with
 *                        it ({@link LowerCeiling}), or null
 */
public record ReserveCommand(String treeId, String leaseId, Instant now, Instant leaseExpiresAt, List<Slot> slots,
                             long input, long output, LowerCeiling lower) {

    private static final Dimension[] DIMS = Dimension.values();

    public ReserveCommand {
        Objects.requireNonNull(treeId, "treeId");
        Objects.requireNonNull(leaseId, "leaseId");
        Objects.requireNonNull(now, "now");
        Objects.requireNonNull(leaseExpiresAt, "leaseExpiresAt");
        slots = List.copyOf(slots);
        TokenCounts.checkAmounts("reserve", leaseId, input, output);
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            for (Dimension d : DIMS) {
                checkLimit(i, s, "limits", s.limits().get(d), d);
                checkLimit(i, s, "caps", s.caps().get(d), d);
            }
            checkAllocation(slots, i);
        }
        if (lower != null) {
            checkLower(lower, output, slots);
        }
    }

    /** Reserves {@code input}/{@code output} with no lower ceiling. */
    public ReserveCommand(String treeId, String leaseId, Instant now, Instant leaseExpiresAt, List<Slot> slots,
                          long input, long output) {
        this(treeId, leaseId, now, leaseExpiresAt, slots, input, output, null);
    }

    private static void checkLower(LowerCeiling lower, long output, List<Slot> slots) {
        if (lower.output() >= output) {
            throw new IllegalArgumentException("lower output ceiling must be below the output reserved (" + output
                    + "), was " + lower.output());
        }
        if (lower.lines().size() != slots.size()) {
            throw new IllegalArgumentException("lower output ceiling: one line per slot expected (" + slots.size()
                    + "), got " + lower.lines().size());
        }
        for (int i = 0; i < slots.size(); i++) {
            for (Dimension d : DIMS) {
                checkLimit(i, slots.get(i), "degrade line", lower.lines().get(i).get(d), d);
            }
        }
    }

    /** A link must point forward to a pool slot, and pools live in calendar windows only. */
    private static void checkAllocation(List<Slot> slots, int i) {
        SlotAllocation a = slots.get(i).allocation();
        if (a.isNone()) {
            return;
        }
        Slot s = slots.get(i);
        if (s.window().isRolling()) {
            throw new IllegalArgumentException("slots[" + i + "] (" + s.key() + "): a rolling window takes no part in "
                    + "allocation");
        }
        if (a.isLinked() && (a.parent() <= i || a.parent() >= slots.size()
                || !slots.get(a.parent()).allocation().isPool())) {
            throw new IllegalArgumentException("slots[" + i + "] (" + s.key() + "): parent slot " + a.parent()
                    + " must be a later slot of the command that keeps a pool");
        }
    }

    private static void checkLimit(int i, Slot s, String what, long v, Dimension d) {
        if (v != Limits.NONE && v > TokenCounts.MAX) {
            throw new IllegalArgumentException("slots[" + i + "] (" + s.key() + ") " + what + "." + d.label()
                    + " must be at most 2^53-1 (" + TokenCounts.MAX + "), was " + v);
        }
    }
}
