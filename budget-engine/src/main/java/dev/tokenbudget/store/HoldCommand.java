package dev.tokenbudget.store;

import java.time.Instant;
import java.util.Objects;

/**
 * Create or delete a hold made at run time on one calendar window instance, recording it in the
 * tree's ledger in the same atomic step. Creating an id that exists, or deleting one that does
 * not, changes nothing (and records nothing).
 *
 * @param treeId  the budget tree
 * @param now     the engine's time (ledger timestamp)
 * @param slot    the holding window
 * @param hold    the hold (for a delete, only its id counts)
 * @param delete  delete instead of create
 * @param actor   who asks, for the ledger
 * @param reason  why, for the ledger
 */
public record HoldCommand(String treeId, Instant now, Slot slot, Hold hold, boolean delete, String actor,
                          String reason) {

    public HoldCommand {
        Objects.requireNonNull(treeId, "treeId");
        Objects.requireNonNull(now, "now");
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(hold, "hold");
        Objects.requireNonNull(actor, "actor");
        if (slot.window().isRolling()) {
            throw new IllegalArgumentException("hold on " + slot.key() + ": holds live in calendar windows");
        }
    }

    /** What a hold command did: whether it changed anything, and its ledger entry (null when not). */
    public record Result(boolean changed, dev.tokenbudget.ledger.LedgerEntry entry) {
    }
}
