package dev.tokenbudget.console.admin;

import dev.tokenbudget.engine.BudgetStatus;

import java.util.Optional;

/**
 * Where the admin API gets burn-down forecasts. A host wires the engine's forecaster in; without
 * one ({@link #none()}) every forecast field of the API is null.
 */
@FunctionalInterface
public interface ForecastSource {

    /** The projection of one window of a budget now, or empty when none can be made (no history, no limit). */
    Optional<WindowForecast> forecast(String budgetId, BudgetStatus.WindowStatus window);

    /** No forecasts. */
    static ForecastSource none() {
        return (budgetId, window) -> Optional.empty();
    }
}
