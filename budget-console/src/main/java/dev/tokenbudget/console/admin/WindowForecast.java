package dev.tokenbudget.console.admin;

import java.time.Instant;
import java.util.List;

/**
 * The burn-down projection of one budget window, as the admin API and the dashboard show it.
 *
 * @param at           when the projection was made
 * @param dimension    the limited dimension projected ({@code input}, {@code output} or {@code total})
 * @param used         tokens used in that dimension so far
 * @param limit        the limit projected against, or -1 for none
 * @param expected     projected consumption at the end of the window
 * @param lower80      lower bound of the 80% band
 * @param upper80      upper bound of the 80% band
 * @param lower95      lower bound of the 95% band
 * @param upper95      upper bound of the 95% band
 * @param horizonEnd   the instant the projection reaches (the window's end; for a rolling window, one length ahead)
 * @param exhaustion   when the limit is projected to be reached, or null when not within the horizon
 * @param method       how the projection was made (the model's stage: {@code no_history}, {@code flat}, {@code weekday})
 * @param historyDays  days of usage history the projection learned from
 * @param trendPercent last 7 days against the 7 before, in percent, or null when unknown
 * @param drivers      what drives the projection, in words ("trend +18 %/month", "burst on 2026-05-12 discounted")
 */
public record WindowForecast(Instant at, String dimension, long used, long limit, double expected, double lower80,
                             double upper80, double lower95, double upper95, Instant horizonEnd, Instant exhaustion,
                             String method, int historyDays, Double trendPercent, List<String> drivers) {

    public WindowForecast {
        drivers = List.copyOf(drivers);
    }
}
