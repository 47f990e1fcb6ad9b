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
 */
public record ReserveResult(boolean admitted, int bindingSlot, Dimension bindingDimension, List<SlotState> states,
                            long[] bindingBuckets, List<LeaseExpiry> expired) {
}
