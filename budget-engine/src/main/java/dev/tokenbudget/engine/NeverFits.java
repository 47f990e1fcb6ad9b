package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.DegradeSpec;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotAllocation;
import dev.tokenbudget.store.SlotState;

import java.time.Instant;
import java.util.List;

/**
 * A refused request that no wait can cure: what it must reserve exceeds the most some window on
 * its path could ever admit, even empty ({@link Decision.Reason#REQUEST_EXCEEDS_LIMIT}).
 *
 * <p>That is a function of the request and the windows' configured caps only, never of stored
 * usage, so it is decided here, once for every store, after the store refused: an admitted
 * request pays nothing for it, and what the stores decide stays as it was. The most a window
 * could ever admit in a dimension is its cap (the limit at its hard stop); for a child that
 * overflows into its parent's pool, the cap plus its {@code overflow_cap}, and no bound at all
 * without one (the parent's own window, also on the path, bounds it then). Holds, what a child
 * gave in a rebalance and in-flight reservations are left out: they pass with the window.
 *
 * <p>A request is judged at the smallest output ceiling the engine could ever reserve for it:
 * where the gateway holds it to a degrade directive, a budget on the path with a degrade_route
 * threshold may reserve its {@code max_output_tokens} instead, or with {@code clamp_to_remaining}
 * as little as one token; such a request may fit later, so it is refused with 429 as before.
 * Counts are the request's own (an output ceiling of 2^63-1 included), added without overflow.
 */
final class NeverFits {

    private static final Dimension[] DIMS = Dimension.values();

    private NeverFits() {
    }

    /**
     * The final refusal of {@code r}, refused by the store, when some window on its path can never
     * admit it; else null (a refusal that waiting cures).
     *
     * @param states the store's states of {@code slots} at the refusal (for what is left)
     */
    static Decision check(BudgetRequest r, List<Slot> slots, List<PathPlan.Entry> path, List<SlotState> states,
                          Instant now) {
        long input = r.inputTokens();
        long floor = r.ceilingEnforced() ? smallestCeiling(path, r.outputTokens()) : r.outputTokens();
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            for (Dimension d : DIMS) {
                long most = most(s, d);
                long need = need(d, input, floor);
                if (most != Limits.NONE && need > most) {
                    return decision(r, s, states.get(i), d, most, need, floor, now);
                }
            }
        }
        return null;
    }

    /** The most a window ever admits in a dimension, or {@link Limits#NONE} for no bound of its own. */
    static long most(Slot s, Dimension d) {
        long cap = s.caps().get(d);
        if (cap == Limits.NONE) {
            return Limits.NONE;
        }
        SlotAllocation a = s.allocation();
        if (!a.overflow()) {
            return cap;
        }
        long draw = a.overflowCap().get(d);
        // caps and overflow caps are at most 2^53 each: the sum cannot overflow
        return draw == Limits.NONE ? Limits.NONE : cap + draw;
    }

    /** What a request of {@code input} and {@code output} ceiling reserves in a dimension, saturating. */
    static long need(Dimension d, long input, long output) {
        return switch (d) {
            case INPUT -> input;
            case OUTPUT -> output;
            case TOTAL -> input > Long.MAX_VALUE - output ? Long.MAX_VALUE : input + output;
        };
    }

    /**
     * The smallest output ceiling any reservation of a request asking {@code asked} can have, on a
     * budget of the path that has a degrade_route threshold: its spec's {@code max_output_tokens}
     * ({@link OutputClamp#lower}, {@link OutputClamp#refit}), or with {@code clamp_to_remaining} on a
     * budget that degrades before it stops, as little as one token ({@link OutputClamp#refit}).
     */
    static long smallestCeiling(List<PathPlan.Entry> path, long asked) {
        long floor = asked;
        for (PathPlan.Entry e : path) {
            if (e.windows().isEmpty() || e.windows().get(0).degradeLines() == null) {
                continue;
            }
            Budget b = e.budget();
            DegradeSpec spec = b.degrade();
            if (spec.clampToRemaining() && b.hardStopPercent() >= 0 && OutputClamp.degrades(b, b.hardStopPercent())) {
                floor = Math.min(floor, 1);
            } else if (spec.maxOutputTokens() >= 0) {
                floor = Math.min(floor, spec.maxOutputTokens());
            }
        }
        return floor;
    }

    private static Decision decision(BudgetRequest r, Slot s, SlotState st, Dimension d, long most, long need,
                                     long floor, Instant now) {
        long limit = s.limits().get(d);
        long committed = st.committed().get(d);
        String window = Decisions.windowName(s.window());
        StringBuilder msg = new StringBuilder("this request can never be admitted: it needs ").append(need)
                .append(' ').append(d.label()).append(" tokens");
        if (d == Dimension.TOTAL) {
            msg.append(" (input estimate ").append(r.inputTokens()).append(" + output ceiling ").append(floor)
                    .append(')');
        }
        if (floor < r.outputTokens() && d != Dimension.INPUT) {
            msg.append(" even with its output ceiling clamped from ").append(r.outputTokens()).append(" to ")
                    .append(floor);
        }
        msg.append(", but budget '").append(s.budgetId()).append("' admits at most ").append(most).append(' ')
                .append(d.label()).append(" tokens per ").append(window).append(" window");
        if (most != limit) {
            long cap = s.caps().get(d);
            msg.append(" (its limit is ").append(limit);
            if (cap != limit) {
                msg.append(", with a hard stop at ").append(cap);
            }
            if (most != cap) {
                msg.append(", plus ").append(most - cap).append(" it may draw from its parent's pool");
            }
            msg.append(')');
        }
        msg.append(d == Dimension.INPUT ? "; shorten the prompt" : "; lower max_tokens")
                .append(" or raise the budget's limit. Retrying will not help");
        double util = limit > 0 ? (double) committed / limit : 0;
        return new Decision(Decision.Outcome.REJECT, Decision.Reason.REQUEST_EXCEEDS_LIMIT, s.budgetId(),
                s.window().key(), d, limit, Math.max(0, limit - committed), util,
                Decisions.resetSeconds(s.window(), now), Decisions.windowSeconds(s.window()), 0, null, msg.toString());
    }
}
