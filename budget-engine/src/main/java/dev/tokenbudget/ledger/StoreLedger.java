package dev.tokenbudget.ledger;

import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.LedgerPage;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The {@link Ledger} a store keeps, shared by every engine on it: rebalances and holds append to
 * it in the same atomic step as the move itself; {@link #append} adds other changes (limit
 * changes). A store keeps one ledger per budget tree (on Redis, one key per tree, so that a
 * tree's scripts can append to it in a Cluster). With one tree, this ledger's numbers are the
 * tree's; with several, entries are merged by time (then tree, then number) and numbered in that
 * order, which is stable as long as entries are appended in time order.
 */
public final class StoreLedger implements Ledger {

    /** Entries read per store call. */
    private static final int PAGE = 500;

    private final BudgetStore store;
    private final List<String> trees;
    private final Function<String, String> treeOf;

    /**
     * @param store   the store
     * @param trees   the root budgets of the config, in config order
     * @param treeOf  the root budget of a budget, or null for a budget the config does not know
     */
    public StoreLedger(BudgetStore store, List<String> trees, Function<String, String> treeOf) {
        this.store = Objects.requireNonNull(store, "store");
        this.trees = List.copyOf(trees);
        this.treeOf = Objects.requireNonNull(treeOf, "treeOf");
        if (this.trees.isEmpty()) {
            throw new IllegalArgumentException("a ledger needs at least one budget tree");
        }
    }

    @Override
    public LedgerEntry append(Instant at, LedgerChange change) {
        String tree = treeOf.apply(change.budgetId());
        LedgerEntry e = store.appendLedger(tree == null ? trees.get(0) : tree, at, change);
        if (trees.size() == 1) {
            return e;
        }
        List<LedgerEntry> all = merged();
        for (LedgerEntry x : all) {
            if (x.at().equals(e.at()) && x.change().equals(e.change())) {
                return x;
            }
        }
        return e;
    }

    @Override
    public List<LedgerEntry> after(long seq, int max, String budgetId) {
        if (max < 0) {
            throw new IllegalArgumentException("max must be >= 0, was " + max);
        }
        List<LedgerEntry> out = new ArrayList<>();
        if (trees.size() > 1) {
            for (LedgerEntry e : merged()) {
                if (e.seq() > seq && out.size() < max && matches(e, budgetId)) {
                    out.add(e);
                }
            }
            return out;
        }
        long after = Math.max(0, seq);
        while (out.size() < max) {
            LedgerPage page = store.ledger(trees.get(0), after, PAGE);
            for (LedgerEntry e : page.entries()) {
                if (out.size() < max && matches(e, budgetId)) {
                    out.add(e);
                }
            }
            if (page.entries().size() < PAGE) {
                break;
            }
            after += page.entries().size();
        }
        return out;
    }

    @Override
    public long lastSeq() {
        long n = 0;
        for (String tree : trees) {
            n += store.ledger(tree, 0, 0).lastSeq();
        }
        return n;
    }

    /** The entries of one tree after {@code afterSeq} (the tree's own numbers). */
    public List<LedgerEntry> tree(String treeId, long afterSeq, int max) {
        return store.ledger(treeId, afterSeq, max).entries();
    }

    private static boolean matches(LedgerEntry e, String budgetId) {
        return budgetId == null || budgetId.equals(e.change().budgetId());
    }

    /** Every tree's entries by time, then tree, then number; numbered 1.. in that order. */
    private List<LedgerEntry> merged() {
        record Tagged(int tree, LedgerEntry e) {
        }
        List<Tagged> all = new ArrayList<>();
        for (int t = 0; t < trees.size(); t++) {
            long after = 0;
            LedgerPage page;
            do {
                page = store.ledger(trees.get(t), after, PAGE);
                for (LedgerEntry e : page.entries()) {
                    all.add(new Tagged(t, e));
                }
                after += page.entries().size();
            } while (page.entries().size() == PAGE);
        }
        all.sort(Comparator.comparing((Tagged x) -> x.e().at()).thenComparingInt(Tagged::tree)
                .thenComparingLong(x -> x.e().seq()));
        List<LedgerEntry> out = new ArrayList<>(all.size());
        for (Tagged x : all) {
            out.add(new LedgerEntry(out.size() + 1L, x.e().at(), x.e().change()));
        }
        return out;
    }
}
