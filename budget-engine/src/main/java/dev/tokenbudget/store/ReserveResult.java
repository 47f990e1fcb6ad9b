package dev.tokenbudget.store;

import dev.tokenbudget.budget.Dimension;

import java.util.List;

/**
 * The outcome of a {@link ReserveCommand}.
 *
 * @param admitted          whether every slot admitted the reservation (then all were charged)
 * @param bindingSlot       index of the slot that refused, or -1 when admitted
 * @param bindingDimension  the dimension that refused, or null when admitted
 * @param states            per slot (same order as the command), used and reserved tokens,
 *                          including this reservation when admitted
 * @param bindingBuckets    for a refusal by a rolling window: that window's per-bucket usage of
 *                          the binding dimension, oldest first; else null
 * @param expired           leases the store settled conservatively in passing
 * @param cause             for a refusal, what refused at the binding slot; null when admitted
 * @param room              for a refusal, the most the binding slot could still admit in the binding
 *                          dimension (own allocation, pool and holds counted); 0 when admitted
 * @param uses              for an admission, where it drew pool tokens or used held tokens; empty when it
 *                          used neither
 * @param output            the output ceiling reserved: the command's, or its {@link LowerCeiling} one; for a
 *                          refusal, the command's (the binding slot refused that)
 * @param fitted            for an admission at the lower ceiling: whether the command's own output would have
 *                          been refused; else false
 */
public record ReserveResult(boolean admitted, int bindingSlot, Dimension bindingDimension, List<SlotState> states,
                            long[] bindingBuckets, List<LeaseExpiry> expired, BindingCause cause, long room,
                            List<AllocationUse> uses, long output, boolean fitted) {

    public ReserveResult {
        uses = uses == null ? List.of() : List.copyOf(uses);
    }
}
