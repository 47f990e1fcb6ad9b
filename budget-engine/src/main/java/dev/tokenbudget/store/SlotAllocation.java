package dev.tokenbudget.store;

import dev.tokenbudget.budget.Limits;

import java.util.List;
import java.util.Objects;

/**
 * The cross-team allocation facts of one slot (docs/allocation.md), which the store applies
 * atomically with the rest of the reservation.
 *
 * <p>As a <b>child</b> ({@code parent >= 0}): the slot is linked to the parent window at that
 * index of the same command. Its cap is lowered by what it gave to the parent's pool in a
 * rebalance; its used + reserved tokens are mirrored into the parent window (so the parent can
 * tell what a hold's beneficiary has consumed without reading sibling keys); and, when
 * {@code overflow}, it may pass its own cap by drawing from the parent's pool, at most
 * {@code overflowCap} per dimension. Its draw is {@code max(0, used + reserved − (cap − given))},
 * kept up to date on every reserve, settle, release and lease expiry, and the parent's pool counts
 * the sum of its children's draws.
 *
 * <p>As a <b>pool</b> ({@code headroom != null}): the slot keeps an overflow pool whose capacity is
 * {@code headroom} (the parent's limit its children were not allotted) plus what rebalances moved
 * into it; and {@code holds} (those of the config; the store adds those made at run time) keep
 * tokens from requests not charged to their beneficiary.
 *
 * @param parent       index of the parent slot in the command, greater than this slot's; -1 for none
 * @param overflow     whether this child may draw from the parent's pool
 * @param overflowCap  most this child may draw per dimension; {@link Limits#NONE} where only the pool bounds it
 * @param headroom     this pool's unallocated headroom per dimension, or null when the slot keeps no pool
 * @param holds        holds of the config on this slot (the store filters those that have ended)
 */
public record SlotAllocation(int parent, boolean overflow, Limits overflowCap, TokenCounts headroom,
                             List<Hold> holds) {

    private static final Limits UNBOUNDED = new Limits(Limits.NONE, Limits.NONE, Limits.NONE);

    /** No allocation: the slot is only capped. */
    public static final SlotAllocation NONE = new SlotAllocation(-1, false, UNBOUNDED, null, List.of());

    public SlotAllocation {
        Objects.requireNonNull(overflowCap, "overflowCap");
        holds = List.copyOf(holds);
        if (parent < 0 && overflow) {
            throw new IllegalArgumentException("an overflowing slot needs a parent slot");
        }
    }

    /** A child slot linked to the parent slot at {@code parent}. */
    public static SlotAllocation child(int parent, boolean overflow, Limits overflowCap) {
        return new SlotAllocation(parent, overflow, overflowCap, null, List.of());
    }

    /** A pool slot with {@code headroom} and the config's {@code holds}. */
    public static SlotAllocation pool(TokenCounts headroom, List<Hold> holds) {
        return new SlotAllocation(-1, false, UNBOUNDED, Objects.requireNonNull(headroom, "headroom"), holds);
    }

    /** The same, also linked as a child to {@code parentSlot}. */
    public SlotAllocation withParent(int parentSlot, boolean draws, Limits cap) {
        return new SlotAllocation(parentSlot, draws, cap, headroom, holds);
    }

    public boolean isLinked() {
        return parent >= 0;
    }

    public boolean isPool() {
        return headroom != null;
    }

    public boolean isNone() {
        return parent < 0 && headroom == null && holds.isEmpty();
    }
}
