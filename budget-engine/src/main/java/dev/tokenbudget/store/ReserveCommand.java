package dev.tokenbudget.store;

import java.time.Instant;
import java.util.List;

/**
 * Reserve {@code input}/{@code output} tokens on every slot of a path, all or nothing.
 *
 * @param treeId          the root budget of the path; every slot belongs to this tree
 * @param leaseId         unique id of the reservation, used to settle or release it
 * @param now             the engine's wall time (stores with {@code SERVER_TIME} use their own)
 * @param leaseExpiresAt  when an unsettled reservation is settled conservatively
 * @param slots           every window of every budget on the path
 * @param input           input tokens to reserve
 * @param output          output tokens to reserve
 */
public record ReserveCommand(String treeId, String leaseId, Instant now, Instant leaseExpiresAt, List<Slot> slots,
                             long input, long output) {

    public ReserveCommand {
        slots = List.copyOf(slots);
    }
}
