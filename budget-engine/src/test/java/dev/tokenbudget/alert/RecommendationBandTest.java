package dev.tokenbudget.alert;

import dev.tokenbudget.forecast.DailyModel;
import dev.tokenbudget.forecast.Forecast;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A predicted alert states the 80 % band and whether all of it lies above the limit. */
class RecommendationBandTest {

    private static Forecast forecast(double lower80, double expected, double upper80) {
        return new Forecast(Instant.parse("2026-11-10T00:00:00Z"), 300_000, 1_000_000, expected, lower80, upper80,
                lower80, upper80, Instant.parse("2026-11-28T00:00:00Z"), DailyModel.Stage.WEEKDAY, 60, 30_000, null,
                null, List.of());
    }

    @Test
    void aBandWhollyAboveTheLimitSaysTheOverrunIsVeryLikely() {
        assertThat(Recommendation.band(forecast(1_020_000, 1_100_000, 1_200_000)))
                .isEqualTo("The 80% band ends the window at 102% to 120% of the limit: all of it above the limit, "
                        + "an overrun is very likely.");
    }

    @Test
    void aBandReachingBelowTheLimitSaysTheOverrunIsNotCertain() {
        assertThat(Recommendation.band(forecast(900_000, 1_050_000, 1_200_000)))
                .isEqualTo("The 80% band ends the window at 90% to 120% of the limit: an overrun is likely but not "
                        + "certain.");
    }
}
