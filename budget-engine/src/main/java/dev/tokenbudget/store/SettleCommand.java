package dev.tokenbudget.store;

import java.time.Instant;

/**
 * Settle a reservation with the usage the provider reported, or release it ({@code release}:
 * nothing was used). Settling a lease that is unknown (already settled, released or expired) is
 * a no-op.
 */
public record SettleCommand(String treeId, String leaseId, Instant now, long input, long output, boolean release) {

    public static SettleCommand release(String treeId, String leaseId, Instant now) {
        return new SettleCommand(treeId, leaseId, now, 0, 0, true);
    }
}
