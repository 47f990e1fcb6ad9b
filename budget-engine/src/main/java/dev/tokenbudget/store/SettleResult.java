package dev.tokenbudget.store;

import java.util.List;

/**
 * The outcome of a {@link SettleCommand}.
 *
 * @param status     what happened to the lease
 * @param crossings  thresholds crossed for the first time in their window by this settlement
 *                   (or by leases expired in passing)
 * @param expired    leases the store settled conservatively in passing
 */
public record SettleResult(Status status, List<ThresholdCrossing> crossings, List<LeaseExpiry> expired) {

    /** What happened to the lease. */
    public enum Status {
        SETTLED,
        RELEASED,
        /** No such lease: settled, released or expired before; nothing changed. */
        UNKNOWN_LEASE,
        /**
         * Returned by the engine, never by a store: the store did not acknowledge the settle (it
         * failed or timed out), and the engine sends it again until the store takes it or the
         * lease expires.
         */
        PENDING
    }
}
