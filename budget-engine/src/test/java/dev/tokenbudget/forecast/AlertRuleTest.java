package dev.tokenbudget.forecast;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Which point of a forecast's distribution the predictive alert compares with the limit. */
class AlertRuleTest {

    static Forecast forecast(long limit, double lower80, double expected, double upper80) {
        return new Forecast(Instant.parse("2026-11-10T00:00:00Z"), 300_000, limit, expected, lower80, upper80,
                lower80 * 0.9, upper80 * 1.1, null, DailyModel.Stage.WEEKDAY, 60, 30_000, null, null, List.of());
    }

    @Test
    void theAlertFiresWhenTheExpectedTotalIsAboveTheLimitNotWhenOnlyTheBandReachesIt() {
        Forecast over = forecast(1_000_000, 950_000, 1_050_000, 1_150_000);
        Forecast bandOnly = forecast(1_000_000, 850_000, 960_000, 1_080_000);
        assertThat(AlertRule.DEFAULT).isEqualTo(AlertRule.EXPECTED);
        assertThat(AlertRule.DEFAULT.fires(over, over.limit())).isTrue();
        assertThat(AlertRule.DEFAULT.fires(bandOnly, bandOnly.limit())).isFalse();
        assertThat(AlertRule.UPPER80.fires(bandOnly, bandOnly.limit())).isTrue();
    }

    @Test
    void theRulesAreOrderedFromSureToWary() {
        Forecast f = forecast(1_000_000, 900_000, 1_000_001, 1_100_000);
        assertThat(AlertRule.LOWER80.fires(f, 1_000_000)).isFalse();
        assertThat(AlertRule.LIKELY.point(f)).isEqualTo(950_000.5);
        assertThat(AlertRule.EXPECTED.fires(f, 1_000_000)).isTrue();
        assertThat(AlertRule.UPPER80.fires(f, 1_000_000)).isTrue();
        for (double limit = 850_000; limit < 1_150_000; limit += 10_000) {
            for (int i = 1; i < AlertRule.values().length; i++) {
                // a surer rule never fires where a warier one does not
                if (AlertRule.values()[i - 1].fires(f, limit)) {
                    assertThat(AlertRule.values()[i].fires(f, limit)).as("%s at %s", AlertRule.values()[i], limit)
                            .isTrue();
                }
            }
        }
    }
}
