package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Policy;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads a budget's windows from the store for {@link BudgetEngine#status}: used, reserved, utilisation, state. */
final class StatusView {

    private static final Dimension[] DIMS = Dimension.values();

    private StatusView() {
    }

    static Optional<BudgetStatus> status(PathPlan p, BudgetStore store, String budgetId, Instant now) {
        PathPlan.Entry e = p.entry(budgetId);
        if (e == null) {
            return Optional.empty();
        }
        List<Slot> slots = PathPlan.slots(List.of(e), now);
        // key budgets hang below a tree budget without being in the tree: their parent's root is theirs
        String tree = p.config.budgets().rootOf(e.budget().parent().orElse(e.id()));
        List<SlotState> states = store.read(tree, slots, now);
        List<BudgetStatus.WindowStatus> windows = new ArrayList<>();
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            SlotState st = states.get(i);
            double util = 0;
            for (Dimension d : DIMS) {
                if (s.limits().has(d)) {
                    util = Math.max(util, (double) st.committed().get(d) / s.limits().get(d));
                }
            }
            Policy sev = mostSevere(e.budget(), util * 100);
            BudgetStatus.State state = sev == null ? BudgetStatus.State.OK : switch (sev) {
                case ALERT_ONLY -> BudgetStatus.State.WARNING;
                case DEGRADE_ROUTE -> BudgetStatus.State.DEGRADED;
                case HARD_STOP -> BudgetStatus.State.BLOCKED;
            };
            windows.add(new BudgetStatus.WindowStatus(s.window().key(), s.window().start(), s.window().end(),
                    s.limits(), st.used(), st.reserved(), util, state));
        }
        return Optional.of(new BudgetStatus(e.id(), e.budget().parent().orElse(null), tree,
                p.config.budgets().children(e.id()), windows));
    }

    /** The most severe policy among the thresholds reached: once degraded, a budget stays degraded. */
    static Policy mostSevere(Budget b, double percent) {
        Policy worst = null;
        for (Threshold t : b.thresholds()) {
            if (percent >= t.percent() && (worst == null || t.policy().ordinal() > worst.ordinal())) {
                worst = t.policy();
            }
        }
        return worst;
    }
}
