package dev.tokenbudget.engine;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Scale;

import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/** The utilisation header's fast formatting says exactly what {@code String.format("%.4f")} says. */
class DecisionHeadersProperties {

    @Property(tries = 5000)
    void fourDecimalsMatchesTheFormatterOnAnyUtilisation(@ForAll @DoubleRange(min = 0, max = 50) @Scale(15) double v) {
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

    @Property(tries = 2000)
    void fourDecimalsMatchesTheFormatterWhereDoubleToStringUsesENotation(
            @ForAll @DoubleRange(min = 0, max = 0.002) @Scale(15) double small,
            @ForAll @DoubleRange(min = 9e6, max = 1e9) @Scale(6) double large) {
        assertThat(DecisionHeaders.fourDecimals(small)).isEqualTo(String.format(Locale.ROOT, "%.4f", small));
        assertThat(DecisionHeaders.fourDecimals(large)).isEqualTo(String.format(Locale.ROOT, "%.4f", large));
    }

    @Property(tries = 5000)
    void fourDecimalsMatchesTheFormatterOnEveryDoubleBelowOneThousandth(
            @ForAll @LongRange(min = 1, max = 0x3F50624DD2F1A9FBL) long bits,
            @ForAll @LongRange(min = 0, max = 1L << 20) long used, @ForAll @LongRange(min = 1, max = 1L << 40) long limit) {
        // bits: every positive double below 0.001 (0x3F50624DD2F1A9FC is 0.001); ratios: early in a big window
        double v = Double.longBitsToDouble(bits);
        double ratio = (double) used / (limit << 10);
        assertThat(DecisionHeaders.fourDecimals(v)).isEqualTo(String.format(Locale.ROOT, "%.4f", v));
        assertThat(DecisionHeaders.fourDecimals(ratio)).isEqualTo(String.format(Locale.ROOT, "%.4f", ratio));
    }

    @Property(tries = 2000)
    void fourDecimalsMatchesTheFormatterWhereRoundingCarriesIntoTheIntegerPart(
            @ForAll @LongRange(min = 0, max = 999) long integer, @ForAll @LongRange(min = 5, max = 9) long fifth) {
        // x.9999d with d >= 5: every digit carries, 9.99995 becomes 10.0000
        double v = Double.parseDouble(integer + ".9999" + fifth);
        assertThat(DecisionHeaders.fourDecimals(v)).isEqualTo(String.format(Locale.ROOT, "%.4f", v));
    }
}
