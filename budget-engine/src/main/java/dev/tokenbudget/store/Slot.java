package dev.tokenbudget.store;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.window.WindowRef;

import java.util.List;

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
 */
public record Slot(String budgetId, WindowRef window, Limits limits, Limits caps, List<Integer> thresholds) {

    /** Store key of this slot within its tree. */
    public String key() {
        return budgetId + "/" + window.key();
    }
}
