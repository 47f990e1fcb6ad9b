package dev.tokenbudget.store;

import dev.tokenbudget.ledger.LedgerEntry;

import java.util.List;

/**
 * A page of a tree's ledger as a store keeps it.
 *
 * @param entries  entries after the sequence number asked for, oldest first
 * @param lastSeq  the sequence number of the tree's newest entry, 0 when it has none
 */
public record LedgerPage(List<LedgerEntry> entries, long lastSeq) {

    public LedgerPage {
        entries = List.copyOf(entries);
    }
}
