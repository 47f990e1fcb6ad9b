package dev.tokenbudget.store;

import java.time.Instant;
import java.util.Objects;

/**
 * Settle a reservation with the usage the provider reported, or release it ({@code release}:
 * nothing was used). Settling a lease that is unknown (already settled, released or expired) is
 * a no-op. Amounts are bounded like a {@link ReserveCommand}'s (at most 2^53-1 together).
 */
public record SettleCommand(String treeId, String leaseId, Instant now, long input, long output, boolean release) {

    public SettleCommand {
        Objects.requireNonNull(treeId, "treeId");
        Objects.requireNonNull(leaseId, "leaseId");
        Objects.requireNonNull(now, "now");
        TokenCounts.checkAmounts("settle", leaseId, input, output);
    }

    public static SettleCommand release(String treeId, String leaseId, Instant now) {
        return new SettleCommand(treeId, leaseId, now, 0, 0, true);
    }
}
