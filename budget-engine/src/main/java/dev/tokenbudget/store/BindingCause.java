package dev.tokenbudget.store;

/** What refused a reservation at its binding slot (declaration order = the codes reserve.lua returns). */
public enum BindingCause {
    /** The slot's own cap (lowered by what it gave in a rebalance). */
    CAP,
    /** An overflowing child's own allocation is spent and its parent's pool has too little left. */
    POOL,
    /** An overflowing child has drawn all its parent's pool lets it (its {@code overflow_cap}). */
    OVERFLOW_CAP,
    /** The request would have fitted, but tokens held for another budget (or for later) are not its to use. */
    HOLD
}
