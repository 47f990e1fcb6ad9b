package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.store.StoreUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Usage history in Redis: shared by instances, flushed in batches, bounded, and kept through outages. */
class RedisUsageHistoryTest {

    private static final Instant T0 = Instant.parse("2026-11-02T09:30:00Z");
    private final String prefix = TestRedis.uniquePrefix("hist");

    private StoreSettings settings(String uri) {
        return new StoreSettings("redis", uri, false, Duration.ofSeconds(2), prefix);
    }

    @AfterEach
    void clean() {
        TestRedis.deleteKeys(prefix);
    }

    @Test
    void historyWrittenByOneInstanceIsReadByAnother() {
        try (RedisUsageHistory a = RedisUsageHistory.manual(settings(TestRedis.uri()));
             RedisUsageHistory b = RedisUsageHistory.manual(settings(TestRedis.uri()))) {
            a.record(List.of("team", "org"), T0, 100, 40);
            a.record(List.of("team", "org"), T0.plus(Duration.ofMinutes(10)), 50, 10);
            a.record(List.of("org"), T0.plus(Duration.ofDays(1)), 7, 3);
            // before a flush the writer sees its own increments, the other instance does not
            assertThat(a.between("org", Dimension.TOTAL, T0.minusSeconds(3600), T0.plus(Duration.ofDays(2))))
                    .isEqualTo(210);
            assertThat(b.between("org", Dimension.TOTAL, T0.minusSeconds(3600), T0.plus(Duration.ofDays(2))))
                    .isZero();
            a.flush();
            assertThat(b.between("team", Dimension.INPUT, T0.minusSeconds(3600), T0.plusSeconds(7200)))
                    .isEqualTo(150);
            var days = b.daily("org", Dimension.TOTAL, ZoneOffset.UTC, LocalDate.of(2026, 11, 2),
                    LocalDate.of(2026, 11, 4));
            assertThat(days.at(0)).isEqualTo(200);
            assertThat(days.at(1)).isEqualTo(10);
            // flushed once: a second flush adds nothing
            a.flush();
            assertThat(b.between("org", Dimension.TOTAL, T0.minusSeconds(3600), T0.plus(Duration.ofDays(2))))
                    .isEqualTo(210);
        }
    }

    @Test
    void hoursOlderThanTheRetentionAreForgotten() {
        try (RedisUsageHistory h = RedisUsageHistory.manual(settings(TestRedis.uri()))) {
            h.record(List.of("org"), T0, 10, 0);
            h.flush();
            h.record(List.of("org"), T0.plus(Duration.ofDays(100)), 5, 0);
            h.flush();
            assertThat(h.between("org", Dimension.INPUT, T0.minusSeconds(3600), T0.plusSeconds(3600))).isZero();
            assertThat(h.between("org", Dimension.INPUT, T0.plus(Duration.ofDays(99)), T0.plus(Duration.ofDays(101))))
                    .isEqualTo(5);
        }
    }

    @Test
    void aFlushThatFailsKeepsItsIncrementsForTheNextOne() {
        try (RedisUsageHistory h = RedisUsageHistory.manual(settings("redis://127.0.0.1:1"))) {
            h.record(List.of("org"), T0, 10, 5);
            assertThatThrownBy(h::flush).isInstanceOf(StoreUnavailableException.class);
            assertThat(h.dropped()).isZero();
        }
    }
}
