package dev.tokenbudget.ledger;

import java.time.Instant;

/**
 * A recorded change with its place in the ledger.
 *
 * @param seq    position in the ledger, from 1, without gaps
 * @param at     when it was recorded (the engine's clock)
 * @param change what changed
 */
public record LedgerEntry(long seq, Instant at, LedgerChange change) {
}
