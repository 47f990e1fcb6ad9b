package dev.tokenbudget.engine;

import dev.tokenbudget.allocation.AllocationSpec;
import dev.tokenbudget.allocation.RebalanceSpec;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.RebalanceCommand;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.StoreUnavailableException;
import dev.tokenbudget.window.WindowRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Runs auto-rebalances lazily: the first reservation through a rebalancing budget after its point
 * of the window (or {@link BudgetEngine#expireLeases}) asks the store to run it; the store claims
 * it, so it runs once per window however many engines ask. Each engine remembers the windows it
 * saw done, so a window costs it one extra store call at most.
 */
final class Rebalancer {

    private static final Logger LOG = LoggerFactory.getLogger(Rebalancer.class);

    private final BudgetStore store;
    private final Consumer<LedgerEntry> moved;
    /** Pool window instances this engine knows to be rebalanced (tree, budget, window key). */
    private final Set<String> done = ConcurrentHashMap.newKeySet();

    Rebalancer(BudgetStore store, Consumer<LedgerEntry> moved) {
        this.store = store;
        this.moved = moved;
    }

    /** Rebalances the due pools of the budgets on a path. */
    void onPath(PathPlan p, List<PathPlan.Entry> path, String treeId, Instant now) {
        for (PathPlan.Entry e : path) {
            if (rule(e.budget()) != null) {
                due(p, e.budget(), treeId, now);
            }
        }
    }

    /** Rebalances every due pool of the config; returns the moves this call made. */
    List<LedgerEntry> all(PathPlan p, Instant now) {
        List<LedgerEntry> out = new ArrayList<>();
        for (Budget b : p.config.budgets().budgets()) {
            if (rule(b) != null) {
                out.addAll(due(p, b, p.config.budgets().rootOf(b.id()), now));
            }
        }
        return out;
    }

    private static RebalanceSpec rule(Budget b) {
        AllocationSpec a = b.allocation().orElse(null);
        return a == null ? null : a.rebalance();
    }

    private List<LedgerEntry> due(PathPlan p, Budget b, String treeId, Instant now) {
        RebalanceSpec rule = rule(b);
        List<LedgerEntry> out = new ArrayList<>();
        for (WindowLimit w : b.windows()) {
            if (!p.allocation.isPool(b.id(), w.window().name())) {
                continue;
            }
            WindowRef ref = w.window().at(now);
            String key = treeId + "|" + b.id() + "/" + ref.key();
            if (done.contains(key) || now.isBefore(pointOf(ref, rule.atPercent()))) {
                continue;
            }
            try {
                out.addAll(run(p, b, w, rule, treeId, now));
                done.add(key);
            } catch (StoreUnavailableException e) {
                // the next reservation or housekeeping asks again; the claim keeps it to one run
                LOG.warn("rebalance of '{}' {} not run yet: {}", b.id(), ref.key(), e.getMessage());
            }
        }
        return out;
    }

    /** The instant {@code percent} of the window has passed. */
    static Instant pointOf(WindowRef w, int percent) {
        long ms = Duration.between(w.start(), w.end()).toMillis();
        return w.start().plusMillis(ms / 100 * percent + ms % 100 * percent / 100);
    }

    private List<LedgerEntry> run(PathPlan p, Budget b, WindowLimit w, RebalanceSpec rule, String treeId,
                                  Instant now) {
        String window = w.window().name();
        Slot parent = p.slot(b.id(), window, now);
        List<Slot> children = p.linkedChildren(b.id(), window, now);
        String reason = "auto-rebalance of '" + b.id() + "' at " + rule.atPercent() + "% of " + parent.window().key()
                + ": children below " + rule.belowPercent() + "% give " + rule.sharePercent()
                + "% of their unused allocation, at most " + rule.maxPercent() + "% of it, to the pool of '" + b.id()
                + "'";
        RebalanceCommand.Result r = store.rebalance(new RebalanceCommand(treeId, now, parent, children,
                rule.belowPercent(), rule.sharePercent(), rule.maxPercent(), reason));
        if (r.claimed()) {
            LOG.info("{}: {} moves", reason, r.moves().size());
        }
        r.moves().forEach(moved);
        return r.moves();
    }
}
