package dev.tokenbudget.store;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.window.WindowRef;

import java.util.List;
import java.util.Objects;

/**
 * One budget window on a request's path, as the store sees it: where to count, the limits
 * (for utilisation and threshold crossings) and the caps it must enforce atomically.
 *
 * @param budgetId   the budget
 * @param window     the concrete window (key, bucket, expiry)
 * @param limits     the window's limits
 * @param caps       per dimension, the most that used + reserved may reach after admission;
 *                   {@link Limits#NONE} where nothing is enforced (soft budgets)
 * @param thresholds threshold percents to detect crossings of, ascending
 * @param allocation the slot's part in cross-team allocation (pool links, holds);
 *                   {@link SlotAllocation#NONE} for a plainly capped window
 */
public record Slot(String budgetId, WindowRef window, Limits limits, Limits caps, List<Integer> thresholds,
                   SlotAllocation allocation) {

    public Slot {
        Objects.requireNonNull(allocation, "allocation");
    }

    /** A slot without allocation. */
    public Slot(String budgetId, WindowRef window, Limits limits, Limits caps, List<Integer> thresholds) {
        this(budgetId, window, limits, caps, thresholds, SlotAllocation.NONE);
    }

    /** The same slot with {@code a}. */
    public Slot withAllocation(SlotAllocation a) {
        return new Slot(budgetId, window, limits, caps, thresholds, a);
    }

    /** Store key of this slot within its tree. */
    public String key() {
        return budgetId + "/" + window.key();
    }
}
