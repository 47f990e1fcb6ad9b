package dev.tokenbudget.engine;

import dev.tokenbudget.allocation.AllocationSpec;
import dev.tokenbudget.allocation.HoldSpec;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.store.AllocationState;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads pools and holds from the store for {@link BudgetEngine#allocation} and {@link Reservations#list}. */
final class AllocationView {

    private AllocationView() {
    }

    static Optional<AllocationStatus> status(PathPlan p, BudgetStore store, String budgetId, Instant now) {
        Budget b = p.config.budgets().get(budgetId).orElse(null);
        if (b == null) {
            return Optional.empty();
        }
        String tree = p.config.budgets().rootOf(b.id());
        List<AllocationStatus.Pool> pools = new ArrayList<>();
        for (WindowLimit w : b.windows()) {
            String name = w.window().name();
            if (!p.allocation.isPool(b.id(), name)) {
                continue;
            }
            Slot parent = p.slot(b.id(), name, now);
            List<Slot> kids = p.linkedChildren(b.id(), name, now);
            AllocationState st = store.readAllocation(tree, parent, kids, now);
            List<AllocationStatus.Child> children = children(p, store, tree, kids, st, now);
            TokenCounts headroom = p.allocation.headroom(b.id(), name);
            TokenCounts capacity = headroom.plus(st.contributions());
            TokenCounts remaining = new TokenCounts(capacity.input() - st.poolUsed().input(),
                    capacity.output() - st.poolUsed().output(), capacity.total() - st.poolUsed().total());
            pools.add(new AllocationStatus.Pool(parent.window().key(), headroom, st.contributions(), st.poolUsed(),
                    remaining, st.rebalanced(), children, holds(b, name, parent, st.holds(), children, now)));
        }
        return Optional.of(new AllocationStatus(b.id(), pools));
    }

    /** The linked children of a pool window with their allocation state. */
    static List<AllocationStatus.Child> children(PathPlan p, BudgetStore store, String tree, List<Slot> kids,
                                                 AllocationState st, Instant now) {
        List<SlotState> committed = store.read(tree, kids, now);
        List<AllocationStatus.Child> out = new ArrayList<>();
        for (int i = 0; i < kids.size(); i++) {
            Slot k = kids.get(i);
            out.add(new AllocationStatus.Child(k.budgetId(),
                    p.config.budgets().get(k.budgetId()).orElseThrow().overflow().enabled(), k.limits(),
                    st.given().get(i), committed.get(i).committed(), st.draws().get(i)));
        }
        return out;
    }

    /** The config's and the run-time holds in force on a window, with what their beneficiaries left of them. */
    static List<AllocationStatus.HoldStatus> holds(Budget b, String name, Slot window, List<Hold> runtime,
                                                   List<AllocationStatus.Child> children, Instant now) {
        List<HoldSpec> specs = b.allocation().map(AllocationSpec::holds).orElse(List.of()).stream()
                .filter(h -> h.window().equals(name)).toList();
        List<AllocationStatus.HoldStatus> out = new ArrayList<>();
        for (Hold h : PathPlan.holds(specs, window, now)) {
            if (h.activeAt(now)) {
                out.add(new AllocationStatus.HoldStatus(h, window.window().key(), true, unconsumed(h, children)));
            }
        }
        for (Hold h : runtime) {
            out.add(new AllocationStatus.HoldStatus(h, window.window().key(), false, unconsumed(h, children)));
        }
        return out;
    }

    private static TokenCounts unconsumed(Hold h, List<AllocationStatus.Child> children) {
        TokenCounts used = TokenCounts.ZERO;
        if (h.forBudget() != null) {
            for (AllocationStatus.Child c : children) {
                if (c.budgetId().equals(h.forBudget())) {
                    used = c.committed();
                }
            }
        }
        TokenCounts t = h.tokens();
        return new TokenCounts(Math.max(0, t.input() - used.input()), Math.max(0, t.output() - used.output()),
                Math.max(0, t.total() - used.total()));
    }
}
