package dev.tokenbudget.alert;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Policy;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.forecast.AlertRule;
import dev.tokenbudget.forecast.Forecast;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/** The recommended action of an alert, in words, from the budget's policy and its projection. */
final class Recommendation {

    private Recommendation() {
    }

    static String of(Budget budget, Alert.Kind kind, double percent, Forecast f, Instant windowEnd, Instant now) {
        if (kind == Alert.Kind.RESOLVED) {
            return "None: the window ended and usage counts from zero again.";
        }
        String atLimit = consequence(budget);
        if (percent >= 100) {
            return "The limit is reached: " + atLimit + " until the window resets (" + windowEnd + "). Raise the "
                    + "limit or draw on the parent's pool if this usage is expected; otherwise find what drives it "
                    + "(the trend and the feature's recent changes).";
        }
        if (f != null && f.exhaustion() != null) {
            Duration early = Duration.between(f.exhaustion(), windowEnd);
            return "At the current rate the limit is reached around " + f.exhaustion() + ", "
                    + days(early) + " before the window resets; then " + atLimit + ". " + band(f)
                    + " To prevent it: raise the "
                    + "limit, move unused tokens from a sibling or the parent's pool, or cut usage (shorter "
                    + "prompts, a cheaper model through degrade_route)" + degradeHint(budget) + ".";
        }
        if (f != null && f.limit() > 0) {
            double end = f.expectedPercent();
            double upper = f.upper80() * 100.0 / f.limit();
            if (upper >= 100) {
                return String.format(Locale.ROOT, "Projected to end the window at %.0f%% of the limit, but the 80%% "
                        + "band reaches %.0f%%: watch the next days; at the limit, %s.", end, upper, atLimit);
            }
            return String.format(Locale.ROOT, "Projected to end the window at %.0f%% of the limit: no action "
                    + "needed now.", end);
        }
        return "Not enough history for a projection yet: watch the next days; at the limit, " + atLimit + ".";
    }

    /**
     * How sure the projection is, from its 80 % band: in backtests an overrun projected with the
     * whole band above the limit came true 99 % of the time, one projected by the expected total
     * alone 90 % (docs/forecast.md, "Predictive alert").
     */
    static String band(Forecast f) {
        if (f.limit() <= 0) {
            return "";
        }
        String range = String.format(Locale.ROOT, "The 80%% band ends the window at %.0f%% to %.0f%% of the limit",
                f.lower80() * 100.0 / f.limit(), f.upper80() * 100.0 / f.limit());
        return AlertRule.LOWER80.fires(f, f.limit()) ? range + ": all of it above the limit, an overrun is very likely."
                : range + ": an overrun is likely but not certain.";
    }

    private static String consequence(Budget b) {
        Policy p = b.thresholdAt(100).map(Threshold::policy).orElse(Policy.ALERT_ONLY);
        return switch (p) {
            case HARD_STOP -> "requests on this budget are rejected with 429";
            case DEGRADE_ROUTE -> "requests are routed to the cheaper '" + b.degrade().route() + "' route";
            case ALERT_ONLY -> "nothing is blocked (alert_only) and usage runs past the limit";
        };
    }

    private static String degradeHint(Budget b) {
        boolean degrades = b.thresholds().stream().anyMatch(t -> t.policy() == Policy.DEGRADE_ROUTE);
        return degrades ? "; its degrade_route threshold will already switch to cheaper models" : "";
    }

    private static String days(Duration d) {
        long h = Math.max(0, d.toHours());
        return h >= 48 ? (h / 24) + " days" : h + " hours";
    }
}
