package dev.tokenbudget.store;

/** Used (settled) and reserved (in flight) tokens of one window. */
public record SlotState(TokenCounts used, TokenCounts reserved) {

    public static final SlotState EMPTY = new SlotState(TokenCounts.ZERO, TokenCounts.ZERO);

    /** Used plus reserved: what admission counts against a cap. */
    public TokenCounts committed() {
        return used.plus(reserved);
    }
}
