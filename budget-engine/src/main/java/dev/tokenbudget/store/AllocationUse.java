package dev.tokenbudget.store;

/**
 * How an admitted reservation used cross-team allocation at one slot of its path.
 *
 * @param slot    index of the slot in the command
 * @param pooled  tokens of this reservation drawn from the slot's parent pool (the slot is an
 *                overflowing child past its own allocation)
 * @param held    tokens of this reservation taken out of holds kept for a budget on its path
 *                (the slot is the holding window)
 */
public record AllocationUse(int slot, TokenCounts pooled, TokenCounts held) {
}
