package dev.tokenbudget.engine;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.LongRange;

import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/** The utilisation header's fast formatting says exactly what {@code String.format("%.4f")} says. */
class DecisionHeadersProperties {

    @Property(tries = 5000)
    void fourDecimalsMatchesTheFormatterOnAnyUtilisation(@ForAll @DoubleRange(min = 0, max = 50) double v) {
        assertThat(DecisionHeaders.fourDecimals(v)).isEqualTo(String.format(Locale.ROOT, "%.4f", v));
    }

    @Property(tries = 5000)
    void fourDecimalsMatchesTheFormatterOnRatiosOfTokenCounts(@ForAll @LongRange(min = 0, max = 1L << 40) long used,
                                                              @ForAll @LongRange(min = 1, max = 1L << 40) long limit) {
        double v = (double) used / limit;
        assertThat(DecisionHeaders.fourDecimals(v)).isEqualTo(String.format(Locale.ROOT, "%.4f", v));
    }

    @Property(tries = 2000)
    void fourDecimalsMatchesTheFormatterAtHalfwayDigits(@ForAll @LongRange(min = 0, max = 2_000_000) long tenThousandths) {
        // values whose fifth decimal is a 5: where half-up rounding decides
        double v = (tenThousandths * 10 + 5) / 100_000.0;
        assertThat(DecisionHeaders.fourDecimals(v)).isEqualTo(String.format(Locale.ROOT, "%.4f", v));
    }
}
