package dev.tokenbudget.forecast;

import dev.tokenbudget.budget.Dimension;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class InMemoryUsageHistoryTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @Test
    void sumsDaysInTheAskedZoneAndKeepsDimensionsApart() {
        InMemoryUsageHistory h = new InMemoryUsageHistory();
        // 23:30 UTC on 1 March is 00:30 on 2 March in Berlin
        h.record(List.of("a", "root"), Instant.parse("2026-03-01T23:30:00Z"), 100, 10);
        h.record(List.of("a"), Instant.parse("2026-03-01T12:00:00Z"), 5, 1);
        DailySeries utc = h.daily("a", Dimension.TOTAL, ZoneOffset.UTC, LocalDate.of(2026, 3, 1),
                LocalDate.of(2026, 3, 3));
        assertThat(utc.at(0)).isEqualTo(116);
        assertThat(utc.at(1)).isZero();
        DailySeries berlin = h.daily("a", Dimension.INPUT, BERLIN, LocalDate.of(2026, 3, 1), LocalDate.of(2026, 3, 3));
        assertThat(berlin.at(0)).isEqualTo(5);
        assertThat(berlin.at(1)).isEqualTo(100);
        assertThat(h.daily("root", Dimension.OUTPUT, BERLIN, LocalDate.of(2026, 3, 2), LocalDate.of(2026, 3, 3)).at(0))
                .isEqualTo(10);
        assertThat(h.between("a", Dimension.TOTAL, Instant.parse("2026-03-01T12:00:00Z"),
                Instant.parse("2026-03-01T12:00:01Z"))).isEqualTo(6);
        assertThat(h.daily("unknown", Dimension.TOTAL, BERLIN, LocalDate.of(2026, 3, 1), LocalDate.of(2026, 3, 3))
                .size()).isEqualTo(2);
    }

    @Test
    void forgetsWhatIsOlderThanItsRetention() {
        InMemoryUsageHistory h = new InMemoryUsageHistory(Duration.ofDays(3));
        Instant t0 = Instant.parse("2026-05-01T10:00:00Z");
        h.record(List.of("a"), t0, 7, 0);
        h.record(List.of("a"), t0.plus(Duration.ofDays(5)), 3, 0);
        assertThat(h.between("a", Dimension.TOTAL, t0.minus(Duration.ofDays(1)), t0.plus(Duration.ofDays(6))))
                .isEqualTo(3);
        // usage older than the ring is dropped, not counted into a newer hour
        h.record(List.of("a"), t0, 11, 0);
        assertThat(h.between("a", Dimension.TOTAL, t0.minus(Duration.ofDays(1)), t0.plus(Duration.ofDays(6))))
                .isEqualTo(3);
    }

    @Test
    void learnsTheIntradayProfile() {
        InMemoryUsageHistory h = new InMemoryUsageHistory();
        LocalDate today = LocalDate.of(2026, 5, 20);
        for (int d = 1; d <= 14; d++) {
            Instant morning = today.minusDays(d).atTime(9, 30).atZone(BERLIN).toInstant();
            h.record(List.of("a"), morning, 900, 0);
            h.record(List.of("a"), morning.plus(Duration.ofHours(10)), 100, 0); // 19:30
        }
        IntradayProfile p = IntradayProfile.learn(h, "a", Dimension.TOTAL, BERLIN, today, 28);
        Instant start = today.atStartOfDay(BERLIN).toInstant();
        assertThat(p.share(BERLIN, start, start.plus(Duration.ofHours(12)))).isCloseTo(0.9, within(0.01));
        assertThat(p.share(BERLIN, start.plus(Duration.ofHours(12)), start.plus(Duration.ofHours(24))))
                .isCloseTo(0.1, within(0.01));
        assertThat(IntradayProfile.learn(h, "none", Dimension.TOTAL, BERLIN, today, 28)
                .share(BERLIN, start, start.plus(Duration.ofHours(6)))).isCloseTo(0.25, within(1e-9));
    }
}
