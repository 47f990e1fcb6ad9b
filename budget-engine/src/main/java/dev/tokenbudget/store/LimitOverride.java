package dev.tokenbudget.store;

import dev.tokenbudget.budget.Limits;

import java.util.Objects;

/**
 * A run-time change of one budget window's limits, kept by the store so that every engine sharing
 * it applies the change, including engines started later.
 *
 * @param budgetId the budget
 * @param window   the window's name ({@code month}, {@code rolling-7d})
 * @param base     the configured limits the change replaced: an engine whose config says otherwise
 *                 (the config was edited since) keeps its config and ignores the change
 * @param limits   the limits in force from the change on
 * @param version  the store's version of the change (rising with every change saved; 0 before saving)
 */
public record LimitOverride(String budgetId, String window, Limits base, Limits limits, long version) {

    public LimitOverride {
        Objects.requireNonNull(budgetId, "budgetId");
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(limits, "limits");
        if (budgetId.indexOf('/') >= 0 || budgetId.indexOf('|') >= 0 || window.indexOf('/') >= 0
                || window.indexOf('|') >= 0) {
            throw new IllegalArgumentException("budget and window names must not contain '/' or '|', were '"
                    + budgetId + "', '" + window + "'");
        }
    }
}
