package dev.tokenbudget.forecast;

import java.time.Instant;
import java.time.LocalDate;
import java.util.List;

/**
 * A burn-down projection of one budget window: where consumption will stand at the end of the
 * window (for a rolling window: over the next full window length), with 80% and 95% bands, and
 * when the limit is projected to be reached.
 *
 * @param at             when the projection was made
 * @param used           tokens used in the window so far
 * @param limit          the limit projected against, or -1 for none
 * @param expected       projected consumption at the end of the window (mean)
 * @param lower80        lower bound of the 80% band (10th percentile)
 * @param upper80        upper bound of the 80% band (90th percentile)
 * @param lower95        lower bound of the 95% band (2.5th percentile)
 * @param upper95        upper bound of the 95% band (97.5th percentile)
 * @param exhaustion     when the expected burn reaches the limit; null when it does not before the window
 *                       ends (or there is no limit); {@code at} when the limit is already reached
 * @param stage          how much history the model had
 * @param historyDays    days of usage the model learned from
 * @param dailyLevel     deseasonalised daily level in tokens
 * @param lastShift      first day of the last level shift detected, or null
 * @param trendPercent   the last 7 complete days against the 7 before, in percent (+25 = 25% more); null when
 *                       the earlier week had no usage
 * @param drivers        what drives the projection, in words ("trend +18 %/month", "burst on 2026-05-12 discounted",
 *                       "weights: level 60 %, trend 40 %", where the bands come from)
 */
public record Forecast(Instant at, long used, long limit, double expected, double lower80, double upper80,
                       double lower95, double upper95, Instant exhaustion, DailyModel.Stage stage, int historyDays, double dailyLevel,
                       LocalDate lastShift, Double trendPercent, List<String> drivers) {

    public Forecast {
        drivers = List.copyOf(drivers);
    }

    /** Whether the expected burn reaches the limit before the window ends. */
    public boolean exhausts() {
        return exhaustion != null;
    }

    /** Expected end-of-window consumption in percent of the limit (NaN without a limit). */
    public double expectedPercent() {
        return limit > 0 ? expected * 100.0 / limit : Double.NaN;
    }

    /** Whether {@code actual} falls inside the 80% band. */
    public boolean within80(double actual) {
        return actual >= lower80 && actual <= upper80;
    }
}
