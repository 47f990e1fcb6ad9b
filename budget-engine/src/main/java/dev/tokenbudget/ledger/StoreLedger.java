package dev.tokenbudget.ledger;

import dev.tokenbudget.store.BudgetStore;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/** The ledger as a store keeps it, over the trees of a config (their root budgets). */
public final class StoreLedger implements Ledger {

    /** Entries read per store call when listing everything. */
    private static final int PAGE = 500;

    private final BudgetStore store;
    private final List<String> trees;

    public StoreLedger(BudgetStore store, List<String> trees) {
        this.store = Objects.requireNonNull(store, "store");
        this.trees = List.copyOf(trees);
    }

    @Override
    public List<LedgerEntry> entries(String treeId, long afterSeq, int max) {
        return store.ledger(treeId, afterSeq, max);
    }

    @Override
    public List<LedgerEntry> entries() {
        List<LedgerEntry> out = new ArrayList<>();
        for (String tree : trees) {
            long after = 0;
            List<LedgerEntry> page;
            do {
                page = store.ledger(tree, after, PAGE);
                out.addAll(page);
                if (!page.isEmpty()) {
                    after = page.get(page.size() - 1).seq();
                }
            } while (page.size() == PAGE);
        }
        out.sort(Comparator.comparing(LedgerEntry::at).thenComparing(LedgerEntry::treeId)
                .thenComparingLong(LedgerEntry::seq));
        return out;
    }
}
