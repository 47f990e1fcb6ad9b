package dev.tokenbudget.store;

import dev.tokenbudget.budget.Limits;

/**
 * A threshold reached for the first time in a window (per budget, window and limit, across all
 * instances sharing the store).
 */
public record ThresholdCrossing(String budgetId, String windowKey, int percent, TokenCounts used, Limits limits) {
}
