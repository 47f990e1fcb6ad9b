package dev.tokenbudget.store;

/**
 * Something a store went through and handled itself, which an operator must still hear about:
 * the engine publishes each as a store-failure event (the request at hand was served normally).
 *
 * @param treeId    the budget tree the call was about
 * @param kind      what happened
 * @param message   what it means for the counts, in words for a log line or an alert
 */
public record StoreIncident(String treeId, Kind kind, String message) {

    /** The kinds of incident. */
    public enum Kind {
        /** The store had lost its scripts (Redis SCRIPT FLUSH or restart) and loaded them again. */
        SCRIPTS_RELOADED,
        /**
         * The tree's state vanished (Redis FLUSHALL, restart without persistence, failover to a
         * replica that had not caught up, eviction): usage counted before it is gone.
         */
        STATE_LOST
    }

    /** The operation name used in the store-failure event. */
    public String operation() {
        return switch (kind) {
            case SCRIPTS_RELOADED -> "scripts-reloaded";
            case STATE_LOST -> "state-lost";
        };
    }
}
