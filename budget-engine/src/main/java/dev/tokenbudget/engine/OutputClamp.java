package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.DegradeSpec;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.Policy;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.store.LowerCeiling;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;

import java.util.ArrayList;
import java.util.List;

/**
 * The output ceiling of a degraded request: what is reserved for it and what it is sent with.
 *
 * <p>A degrade spec's {@code max_output_tokens} ({@code M}) is the most a degraded request is sent
 * with, so that is all it reserves: the store reserves {@code M} instead of the asked ceiling when
 * the request is degraded with {@code M} counted ({@link #lower}), in the same atomic step. A
 * request that a hard stop refuses at its asked ceiling is admitted degraded with the ceiling its
 * refusing budget's spec allows, when that fits ({@link #refit}): {@code M}, or with
 * {@code clamp_to_remaining} the smaller of {@code M} and what is left.
 *
 * <p>{@code clamp_to_remaining} on a budget without a hard stop (which admits everything) cuts the
 * ceiling to what was left before the request ({@link #room}), and once nothing is left (the
 * budget chose never to stop) requests keep their own ceiling.
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
     * Per limited dimension of a window, the least used + reserved tokens at which {@link #degrades}
     * holds (as the decision computes utilisation, in doubles), or null when the budget has no
     * degrade_route threshold.
     */
    static Limits lines(Budget b, Limits limits) {
        int percent = Integer.MAX_VALUE;
        for (Threshold t : b.thresholds()) {
            if (t.policy() == Policy.DEGRADE_ROUTE) {
                percent = Math.min(percent, t.percent());
            }
        }
        if (percent == Integer.MAX_VALUE) {
            return null;
        }
        Limits out = LowerCeiling.NO_LINE;
        for (Dimension d : Dimension.values()) {
            if (limits.has(d)) {
                out = out.with(d, line(limits.get(d), percent));
            }
        }
        return out;
    }

    /** The least {@code committed} whose utilisation of {@code limit}, in percent, reaches {@code percent}. */
    static long line(long limit, int percent) {
        // limits are at most 2^53 and percents at most 100: no overflow; the loops only correct rounding
        long c = (limit * percent + 99) / 100;
        while (c > 1 && reached(c - 1, limit, percent)) {
            c--;
        }
        while (!reached(c, limit, percent)) {
            c++;
        }
        return c;
    }

    private static boolean reached(long committed, long limit, int percent) {
        double util = (double) committed / limit;
        return util * 100 >= percent;
    }

    /**
     * The lower ceiling to offer the store for a request of {@code output} ceiling: the largest
     * {@code max_output_tokens} of the budgets on the path that degrade, with those budgets' lines,
     * when it is below {@code output}; else null. Whichever budget's spec the decision then applies,
     * its clamp is at most the ceiling reserved ({@link BudgetEngine}).
     */
    static LowerCeiling lower(List<PathPlan.Entry> path, int slotCount, long output) {
        long m = -1;
        for (PathPlan.Entry e : path) {
            if (clamps(e)) {
                m = Math.max(m, e.budget().degrade().maxOutputTokens());
            }
        }
        if (m < 0 || m >= output) {
            return null;
        }
        List<Limits> lines = new ArrayList<>(slotCount);
        for (PathPlan.Entry e : path) {
            boolean clamps = clamps(e);
            for (PathPlan.PlannedWindow w : e.windows()) {
                lines.add(clamps ? w.degradeLines() : LowerCeiling.NO_LINE);
            }
        }
        return new LowerCeiling(m, lines);
    }

    /** Whether a budget on the path degrades and clamps the ceiling when it does. */
    private static boolean clamps(PathPlan.Entry e) {
        return e.budget().degrade().maxOutputTokens() >= 0 && !e.windows().isEmpty()
                && e.windows().get(0).degradeLines() != null;
    }

    /**
     * For a refusal of a request of {@code ceiling}: the smaller ceiling with which its refusing
     * budget admits it degraded, or -1. Only a budget that degrades before it stops does so, in the
     * output or total dimension (a refusal of the input cannot be helped by a smaller ceiling), with
     * its spec's {@code max_output_tokens} when below the ceiling (only that: a smaller ceiling than
     * the spec sends is not offered), and with {@code clamp_to_remaining} the ceiling that fits
     * what is left when that is smaller still.
     */
    static long refit(ReserveResult res, List<Slot> slots, List<PathPlan.Entry> path, long input, long ceiling) {
        Slot s = slots.get(res.bindingSlot());
        Budget b = PathPlan.budgetOf(path, s.budgetId());
        Dimension d = res.bindingDimension();
        DegradeSpec spec = b.degrade();
        long m = spec.maxOutputTokens() >= 0 && spec.maxOutputTokens() < ceiling ? spec.maxOutputTokens() : -1;
        if (d == Dimension.INPUT || m < 0 && !spec.clampToRemaining()
                || !degrades(b, b.hardStopPercent() < 0 ? 100 : b.hardStopPercent())) {
            return -1;
        }
        long room = res.room() >= 0 ? res.room()
                : Math.max(0, s.caps().get(d) - res.states().get(res.bindingSlot()).committed().get(d));
        long fit = d == Dimension.TOTAL ? room - input : room;
        if (!spec.clampToRemaining()) {
            // no store call for a ceiling the refusing window already has no room for
            return fit >= m ? m : -1;
        }
        return m < 0 ? fit : Math.min(m, fit);
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
