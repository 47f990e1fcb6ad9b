package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.store.AllocationUse;
import dev.tokenbudget.store.BindingCause;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.TokenCounts;

import java.util.List;

/** The words with which a decision explains cross-team allocation: what bound it, what it drew. */
final class Explanations {

    private Explanations() {
    }

    /** Why the slot {@code s} refused, for a cause other than its plain cap. */
    static String refusal(BindingCause cause, Slot s, List<Slot> slots, Dimension d, long room, long request) {
        String unit = " " + d.label() + " tokens";
        String in = " in " + s.window().key();
        String pool = s.allocation().isLinked() ? slots.get(s.allocation().parent()).budgetId() : "?";
        return switch (cause) {
            case POOL -> "budget '" + s.budgetId() + "' has " + room + unit + " left" + in
                    + ", its own allocation and what the overflow pool of '" + pool + "' can still give it together; "
                    + "this request needs " + request;
            case OVERFLOW_CAP -> "budget '" + s.budgetId() + "' may draw at most " + s.allocation().overflowCap().get(d)
                    + unit + " from the overflow pool of '" + pool + "'" + in + "; " + room
                    + " left, this request needs " + request;
            case HOLD -> "budget '" + s.budgetId() + "' has " + room + unit + " left for this request" + in
                    + ": the rest is held for another budget or for later in the window; this request needs "
                    + request;
            case CAP -> "budget '" + s.budgetId() + "' has " + room + unit + " left" + in + "; this request needs "
                    + request;
        };
    }

    /** Where an admitted reservation drew pool tokens and used held tokens. */
    static Decision.Allocation uses(List<AllocationUse> uses, List<Slot> slots) {
        String poolBudget = null;
        TokenCounts pooled = TokenCounts.ZERO;
        String heldBudget = null;
        TokenCounts held = TokenCounts.ZERO;
        for (AllocationUse u : uses) {
            Slot s = slots.get(u.slot());
            if (!u.pooled().equals(TokenCounts.ZERO) && poolBudget == null) {
                poolBudget = slots.get(s.allocation().parent()).budgetId();
                pooled = u.pooled();
            }
            if (!u.held().equals(TokenCounts.ZERO) && heldBudget == null) {
                heldBudget = s.budgetId();
                held = u.held();
            }
        }
        return new Decision.Allocation(null, poolBudget, pooled, heldBudget, held);
    }

    /** A clause for the decision's message. */
    static String note(Decision.Allocation a) {
        StringBuilder b = new StringBuilder();
        if (a.usedPool()) {
            b.append("; drew ").append(largest(a.pooled())).append(" tokens from the overflow pool of '")
                    .append(a.poolBudget()).append('\'');
        }
        if (a.usedHold()) {
            b.append("; used ").append(largest(a.held())).append(" tokens held for it by '").append(a.heldBudget())
                    .append('\'');
        }
        return b.toString();
    }

    private static long largest(TokenCounts t) {
        return Math.max(t.total(), Math.max(t.input(), t.output()));
    }
}
