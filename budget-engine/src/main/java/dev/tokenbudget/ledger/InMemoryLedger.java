package dev.tokenbudget.ledger;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link Ledger} in memory: every entry is kept for the life of the process (envelope changes
 * are operator actions and scheduled steps, a handful a day, so nothing is evicted).
 */
final class InMemoryLedger implements Ledger {

    private final List<LedgerEntry> entries = new ArrayList<>();
    private final Map<String, LedgerEntry> byKey = new HashMap<>();

    @Override
    public synchronized LedgerEntry append(Instant at, LedgerChange change) {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(change, "change");
        String key = change.idempotencyKey();
        if (key != null && byKey.containsKey(key)) {
            return byKey.get(key);
        }
        LedgerEntry e = new LedgerEntry(entries.size() + 1L, at, change);
        entries.add(e);
        if (key != null) {
            byKey.put(key, e);
        }
        return e;
    }

    @Override
    public synchronized List<LedgerEntry> after(long seq, int max, String budgetId) {
        if (max < 0) {
            throw new IllegalArgumentException("max must be >= 0, was " + max);
        }
        List<LedgerEntry> out = new ArrayList<>();
        // seq n is at index n - 1, so entries after seq start at index seq
        for (int i = (int) Math.max(0, Math.min(seq, entries.size())); i < entries.size() && out.size() < max; i++) {
            LedgerEntry e = entries.get(i);
            if (budgetId == null || budgetId.equals(e.change().budgetId())) {
                out.add(e);
            }
        }
        return out;
    }

    @Override
    public synchronized long lastSeq() {
        return entries.size();
    }
}
