package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.Policy;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;

import java.util.List;

/**
 * {@code clamp_to_remaining}: the output ceiling of a degraded request is cut to what its budgets
 * have left, so the last requests of a window cannot overshoot it.
 *
 * <p>A budget with a hard stop enforces its cap at admission, the full ceiling included (its
 * overflow pool and holds counted), so an admitted request already fits it; there the clamp works
 * at refusal instead: a request refused only because its ceiling does not fit is admitted with the
 * ceiling that does ({@link #refit}). A budget without a hard stop admits everything; there the
 * ceiling is cut to what was left before the request ({@link #room}), and once nothing is left
 * (the budget chose never to stop) requests keep their own ceiling.
 */
final class OutputClamp {

    private OutputClamp() {
    }

    /** Whether a budget is in its degrade stage at {@code percent}: a degrade_route threshold is reached. */
    static boolean degrades(Budget b, double percent) {
        for (Threshold t : b.thresholds()) {
            if (t.policy() == Policy.DEGRADE_ROUTE && percent >= t.percent()) {
                return true;
            }
        }
        return false;
    }

    /**
     * For a refusal: the output ceiling with which the refusing window would admit the request, when
     * its budget clamps to what remains and degrades before it stops; else -1. A refusal in the input
     * dimension cannot be helped by a smaller ceiling.
     */
    static long refit(ReserveResult res, List<Slot> slots, List<PathPlan.Entry> path, long input) {
        Slot s = slots.get(res.bindingSlot());
        Budget b = BudgetEngine.budgetOf(path, s.budgetId());
        Dimension d = res.bindingDimension();
        if (!b.degrade().clampToRemaining() || d == Dimension.INPUT
                || !degrades(b, b.hardStopPercent() < 0 ? 100 : b.hardStopPercent())) {
            return -1;
        }
        long room = res.room() >= 0 ? res.room()
                : Math.max(0, s.caps().get(d) - res.states().get(res.bindingSlot()).committed().get(d));
        return d == Dimension.TOTAL ? room - input : room;
    }

    /**
     * For an admission of {@code output} ceiling: the most output the windows without a hard stop
     * had left for it (their limit less what was committed before it), or {@link Long#MAX_VALUE}
     * when none limits it or nothing was left.
     */
    static long room(List<SlotState> states, List<Slot> slots, long output) {
        long room = Long.MAX_VALUE;
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            for (Dimension d : new Dimension[] {Dimension.OUTPUT, Dimension.TOTAL}) {
                if (!s.limits().has(d) || s.caps().get(d) != Limits.NONE) {
                    continue;
                }
                room = Math.min(room, s.limits().get(d) - states.get(i).committed().get(d) + output);
            }
        }
        return room < 1 ? Long.MAX_VALUE : room;
    }
}
