package dev.tokenbudget.alert;

import dev.tokenbudget.budget.Dimension;

import java.time.Instant;

/** Alerts for tests. */
public final class Alerts {

    private Alerts() {
    }

    public static Alert threshold(int percent) {
        return new Alert("threshold:support/month:2026-11/i-1o-1t50000000/" + percent, Alert.Kind.THRESHOLD,
                percent >= 100 ? Alert.Severity.CRITICAL : Alert.Severity.WARNING,
                Instant.parse("2026-11-20T10:15:30Z"), "support", "month:2026-11", Instant.parse("2026-11-01T00:00:00Z"),
                Instant.parse("2026-12-01T00:00:00Z"), Dimension.TOTAL, 45_000_000, 50_000_000, 90.0, percent,
                new Alert.Projection(61_000_000, 57_000_000, 65_000_000, 55_000_000, 68_000_000),
                Instant.parse("2026-11-23T08:00:00Z"), 12.5, "Raise the limit or cut usage.");
    }

    public static Alert resolved() {
        Alert a = threshold(90);
        return new Alert("resolved:" + a.dedupKey(), Alert.Kind.RESOLVED, Alert.Severity.INFO,
                Instant.parse("2026-12-01T00:05:00Z"), a.budgetId(), a.window(), a.windowStart(), a.windowEnd(),
                a.dimension(), a.used(), a.limit(), a.percent(), a.threshold(), null, null, null, "None.");
    }
}
