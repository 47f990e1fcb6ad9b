package dev.tokenbudget.forecast;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowRef;
import dev.tokenbudget.window.WindowSpec;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Objects;
import java.util.Optional;

/**
 * Forecasts of one budget window from its history: one per limited dimension, and the one that
 * binds (the first to reach its limit, or else the one projected closest to it).
 */
public final class WindowForecasts {

    /** Days of history read for a forecast, as the store keeps them. */
    public static final int HISTORY_DAYS = 90;

    /** Days the intra-day profile is learned from. */
    public static final int PROFILE_DAYS = 28;

    private final Forecaster forecaster;
    private final UsageHistory history;

    public WindowForecasts(Forecaster forecaster, UsageHistory history) {
        this.forecaster = Objects.requireNonNull(forecaster, "forecaster");
        this.history = Objects.requireNonNull(history, "history");
    }

    /** A forecast of one dimension of a window. */
    public record Binding(Dimension dimension, Forecast forecast) {
    }

    /** Whether a window gets a forecast at all (rolling windows shorter than a day do not). */
    public static boolean forecastable(WindowSpec spec) {
        return spec.period() != Period.ROLLING || spec.length().compareTo(Duration.ofDays(1)) >= 0;
    }

    /** The forecast of one dimension. */
    public Forecast forecast(String budgetId, WindowSpec spec, WindowRef window, Dimension d, long used, long limit,
                             Instant now) {
        LocalDate today = now.atZone(spec.zone()).toLocalDate();
        DailySeries days = history.daily(budgetId, d, spec.zone(), today.minusDays(HISTORY_DAYS), today);
        long todayUsed = history.between(budgetId, d, today.atStartOfDay(spec.zone()).toInstant(), now);
        IntradayProfile profile = IntradayProfile.learn(history, budgetId, d, spec.zone(), today, PROFILE_DAYS);
        if (spec.period() == Period.ROLLING) {
            return forecaster.rolling(days, todayUsed, profile, now, spec.zone(), spec.length(), used, limit);
        }
        return forecaster.span(days, todayUsed, profile, now, spec.zone(), window.start(), window.end(), used, limit);
    }

    /** The binding forecast among the window's limited dimensions; empty when it has none or is not forecastable. */
    public Optional<Binding> binding(String budgetId, WindowSpec spec, WindowRef window, Limits limits,
                                     TokenCounts used, Instant now) {
        if (!forecastable(spec)) {
            return Optional.empty();
        }
        Binding best = null;
        for (Dimension d : Dimension.values()) {
            if (!limits.has(d)) {
                continue;
            }
            Forecast f = forecast(budgetId, spec, window, d, used.get(d), limits.get(d), now);
            if (best == null || binds(f, best.forecast())) {
                best = new Binding(d, f);
            }
        }
        return Optional.ofNullable(best);
    }

    private static boolean binds(Forecast a, Forecast b) {
        if (a.exhaustion() != null || b.exhaustion() != null) {
            return b.exhaustion() == null || a.exhaustion() != null && a.exhaustion().isBefore(b.exhaustion());
        }
        return a.expectedPercent() > b.expectedPercent();
    }
}
