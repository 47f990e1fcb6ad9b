package dev.tokenbudget.budget;

/** What a budget does when its store is unreachable or too slow. */
public enum FailMode {
    /** Admit the request uncounted and emit a store-failure event. */
    OPEN,
    /** Reject the request (503) and emit a store-failure event. */
    CLOSED
}
