package dev.tokenbudget.forecast;

import java.time.LocalDate;

/** Week-over-week change of usage, as alerts report it. */
public final class Trend {

    private Trend() {
    }

    /**
     * The last 7 complete days before {@code today} against the 7 days before those, in percent;
     * null when the earlier week used nothing (no basis to compare).
     */
    public static Double weekOverWeek(DailySeries history, LocalDate today) {
        long last = history.sum(today.minusDays(7), today);
        long prev = history.sum(today.minusDays(14), today.minusDays(7));
        if (prev <= 0) {
            return null;
        }
        return (last - prev) * 100.0 / prev;
    }
}
