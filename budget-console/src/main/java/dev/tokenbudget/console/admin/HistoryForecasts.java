package dev.tokenbudget.console.admin;

import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.forecast.Forecast;
import dev.tokenbudget.forecast.Forecaster;
import dev.tokenbudget.forecast.UsageHistory;
import dev.tokenbudget.forecast.WindowForecasts;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;

import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Forecasts from the engine's forecaster ({@link WindowForecasts}: weekday-weighted, with level
 * shifts and bands; docs/forecast.md) over a usage history: per window, the limited dimension
 * that binds first. Rolling windows shorter than a day and windows without limits get none.
 */
public final class HistoryForecasts implements ForecastSource {

    private final BudgetEngine engine;
    private final WindowForecasts forecasts;

    public HistoryForecasts(BudgetEngine engine, UsageHistory history) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.forecasts = new WindowForecasts(new Forecaster(), Objects.requireNonNull(history, "history"));
    }

    @Override
    public Optional<WindowForecast> forecast(String budgetId, BudgetStatus.WindowStatus w) {
        Optional<WindowSpec> spec = BudgetViews.budgetConfig(engine.config(), budgetId)
                .flatMap(b -> BudgetViews.windowConfig(b, w.window())).map(x -> x.window());
        if (spec.isEmpty()) {
            return Optional.empty();
        }
        Instant now = engine.clock().now();
        return forecasts.binding(budgetId, spec.get(), spec.get().at(now), w.limits(), w.used(), now)
                .map(b -> view(b.dimension().label(), b.forecast(), spec.get(), w, now));
    }

    private static WindowForecast view(String dimension, Forecast f, WindowSpec spec, BudgetStatus.WindowStatus w,
                                       Instant now) {
        // a rolling window's projection covers the next full length; a calendar one's, the rest of the window
        Instant horizon = spec.period() == Period.ROLLING ? now.plus(spec.length()) : w.end();
        return new WindowForecast(f.at(), dimension, f.used(), f.limit(), f.expected(), f.lower80(), f.upper80(),
                f.lower95(), f.upper95(), horizon, f.exhaustion(), f.stage().name().toLowerCase(Locale.ROOT),
                f.historyDays(), f.trendPercent(), f.drivers());
    }
}
