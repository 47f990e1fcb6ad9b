package dev.tokenbudget.forecast;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ForecastPropertiesTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @Property(tries = 150)
    void bandsAreOrderedNeverBelowWhatIsUsedAndExhaustionFallsInTheWindow(
            @ForAll @Size(max = 120) List<@LongRange(max = 50_000_000) Long> days,
            @ForAll @IntRange(min = 0, max = 86_399) int secondOfDay,
            @ForAll @LongRange(max = 2_000_000) long today,
            @ForAll @LongRange(min = 1, max = 2_000_000_000) long limit) {
        LocalDate day = LocalDate.of(2026, 3, 29); // the day Berlin's clocks go forward: a 23-hour day
        long[] v = days.stream().mapToLong(Long::longValue).toArray();
        DailySeries h = DailySeries.of(day.minusDays(v.length), v);
        Instant now = day.atStartOfDay(BERLIN).toInstant().plusSeconds(secondOfDay);
        Instant start = day.withDayOfMonth(1).atStartOfDay(BERLIN).toInstant();
        Instant end = day.plusMonths(1).withDayOfMonth(1).atStartOfDay(BERLIN).toInstant();
        long used = h.sum(day.withDayOfMonth(1), day) + today;
        Forecast f = new Forecaster().span(h, today, now, BERLIN, start, end, used, limit);
        assertThat(f.lower95()).isGreaterThanOrEqualTo(used);
        assertThat(f.lower95()).isLessThanOrEqualTo(f.lower80());
        assertThat(f.lower80()).isLessThanOrEqualTo(f.expected() + 1e-6);
        assertThat(f.expected()).isLessThanOrEqualTo(f.upper80() + 1e-6);
        assertThat(f.upper80()).isLessThanOrEqualTo(f.upper95());
        assertThat(Double.isFinite(f.upper95())).isTrue();
        if (f.exhaustion() != null) {
            assertThat(f.exhaustion()).isBetween(now, end);
            assertThat(f.expected()).isGreaterThanOrEqualTo(limit - 1.0);
        } else {
            assertThat(f.expected()).isLessThan(limit + 1.0);
        }
    }
}
