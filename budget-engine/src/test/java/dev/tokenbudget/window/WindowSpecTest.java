package dev.tokenbudget.window;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;

import static org.assertj.core.api.Assertions.assertThat;

class WindowSpecTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

    @Provide
    Arbitrary<Instant> instants() {
        // 1990..2100: covers many leap years, 2000 (leap) and 2100 (not leap)
        return Arbitraries.longs().between(631_152_000L, 4_102_444_800L).map(Instant::ofEpochSecond);
    }

    @Provide
    Arbitrary<ZoneId> zones() {
        return Arbitraries.of("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
                "Pacific/Chatham", "America/St_Johns", "Asia/Tokyo").map(ZoneId::of);
    }

    @Provide
    Arbitrary<Period> calendarPeriods() {
        return Arbitraries.of(Period.MONTH, Period.WEEK, Period.DAY);
    }

    @Property(tries = 2000)
    void aCalendarWindowContainsItsInstantAndTheNextStartsAtItsEnd(@ForAll("instants") Instant t,
                                                                  @ForAll("zones") ZoneId zone,
                                                                  @ForAll("calendarPeriods") Period p) {
        WindowSpec spec = WindowSpec.calendar(p, zone);
        WindowRef w = spec.at(t);
        assertThat(w.start()).isBeforeOrEqualTo(t);
        assertThat(w.end()).isAfter(t);
        WindowRef next = spec.at(w.end());
        assertThat(next.start()).isEqualTo(w.end());
        assertThat(next.key()).isNotEqualTo(w.key());
        assertThat(spec.at(w.end().minusNanos(1)).key()).isEqualTo(w.key());
        // windows start at local midnight, whatever DST does
        assertThat(w.start().atZone(zone).toLocalTime()).isIn(LocalTime.MIDNIGHT, LocalTime.of(1, 0),
                LocalTime.of(0, 30));
    }

    @Property(tries = 1000)
    void aMonthWindowLastsExactlyTheMonthsDays(@ForAll("instants") Instant t, @ForAll("zones") ZoneId zone) {
        WindowRef w = WindowSpec.calendar(Period.MONTH, zone).at(t);
        LocalDate first = w.start().atZone(zone).toLocalDate();
        assertThat(first.getDayOfMonth()).isEqualTo(1);
        int days = YearMonth.from(first).lengthOfMonth();
        assertThat(w.end().atZone(zone).toLocalDate()).isEqualTo(first.plusDays(days));
        assertThat(w.key()).isEqualTo(String.format("month:%04d-%02d", first.getYear(), first.getMonthValue()));
    }

    @Property(tries = 1000)
    void aWeekWindowRunsMondayToMonday(@ForAll("instants") Instant t, @ForAll("zones") ZoneId zone) {
        WindowRef w = WindowSpec.calendar(Period.WEEK, zone).at(t);
        LocalDate first = w.start().atZone(zone).toLocalDate();
        assertThat(first.getDayOfWeek()).isEqualTo(DayOfWeek.MONDAY);
        assertThat(w.end().atZone(zone).toLocalDate()).isEqualTo(first.plusWeeks(1));
    }

    @Test
    void whenTheClockGoesBackOverMidnightTheNewDayHasAlreadyBegun() {
        // found by the property above: St John's ended DST at 00:01 NDT on 2001-10-28, back to
        // 23:01 NST on the 27th; the 27th's window ended at 02:30Z and must not come back
        ZoneId stJohns = ZoneId.of("America/St_Johns");
        WindowSpec day = WindowSpec.calendar(Period.DAY, stJohns);
        Instant afterTheSwitch = Instant.parse("2001-10-28T02:31:00Z");
        assertThat(afterTheSwitch.atZone(stJohns).toLocalDate()).isEqualTo(LocalDate.of(2001, 10, 27));
        WindowRef w = day.at(afterTheSwitch);
        assertThat(w.start()).isEqualTo(Instant.parse("2001-10-28T02:30:00Z"));
        assertThat(w.end()).isAfter(afterTheSwitch);
        assertThat(w.key()).endsWith("2001-10-28");
        assertThat(day.at(Instant.parse("2001-10-28T02:29:00Z")).key()).endsWith("2001-10-27");
        assertThat(day.at(Instant.parse("2001-10-28T02:29:00Z")).end()).isEqualTo(w.start());
    }

    @Test
    void februaryHas29DaysInLeapYearsOnly() {
        WindowSpec m = WindowSpec.calendar(Period.MONTH, ZoneId.of("UTC"));
        assertThat(days(m.at(Instant.parse("2024-02-10T00:00:00Z")))).isEqualTo(29);
        assertThat(days(m.at(Instant.parse("2000-02-10T00:00:00Z")))).isEqualTo(29);
        assertThat(days(m.at(Instant.parse("2100-02-10T00:00:00Z")))).isEqualTo(28);
        assertThat(days(m.at(Instant.parse("2026-02-10T00:00:00Z")))).isEqualTo(28);
    }

    private static long days(WindowRef w) {
        return Duration.between(w.start(), w.end()).toDays();
    }

    @Test
    void dstDaysAre23And25HoursLong() {
        WindowSpec day = WindowSpec.calendar(Period.DAY, BERLIN);
        WindowRef spring = day.at(ZonedDateTime.of(2026, 3, 29, 12, 0, 0, 0, BERLIN).toInstant());
        WindowRef autumn = day.at(ZonedDateTime.of(2026, 10, 25, 12, 0, 0, 0, BERLIN).toInstant());
        assertThat(Duration.between(spring.start(), spring.end())).isEqualTo(Duration.ofHours(23));
        assertThat(Duration.between(autumn.start(), autumn.end())).isEqualTo(Duration.ofHours(25));
        assertThat(spring.key()).isEqualTo("day:2026-03-29");
    }

    @Test
    void theSameInstantFallsInDifferentDaysInDifferentZones() {
        Instant t = Instant.parse("2026-11-28T02:00:00Z");
        assertThat(WindowSpec.calendar(Period.DAY, BERLIN).at(t).key()).isEqualTo("day:2026-11-28");
        assertThat(WindowSpec.calendar(Period.DAY, NEW_YORK).at(t).key()).isEqualTo("day:2026-11-27");
        // month boundary too: 1 Dec 00:30 in Berlin is still November in New York
        Instant u = ZonedDateTime.of(2026, 12, 1, 0, 30, 0, 0, BERLIN).toInstant();
        assertThat(WindowSpec.calendar(Period.MONTH, BERLIN).at(u).key()).isEqualTo("month:2026-12");
        assertThat(WindowSpec.calendar(Period.MONTH, NEW_YORK).at(u).key()).isEqualTo("month:2026-11");
    }

    @Test
    void isoWeekLabelsUseTheWeekBasedYear() {
        // Monday 29 Dec 2025 starts ISO week 1 of 2026
        WindowRef w = WindowSpec.calendar(Period.WEEK, ZoneId.of("UTC")).at(Instant.parse("2025-12-31T10:00:00Z"));
        assertThat(w.key()).isEqualTo("week:2026-W01");
    }

    @Property(tries = 1000)
    void aRollingWindowCoversItsLengthToOneBucket(@ForAll("instants") Instant t) {
        WindowSpec r = WindowSpec.rolling(Duration.ofDays(7));
        WindowRef w = r.at(t);
        long bucketMs = Duration.ofDays(7).toMillis() / WindowSpec.ROLLING_BUCKETS;
        assertThat(w.bucketCount()).isEqualTo(WindowSpec.ROLLING_BUCKETS);
        assertThat(w.bucketMillis()).isEqualTo(bucketMs);
        assertThat(w.covers(t)).isTrue();
        // the counted span is between (N-1) and N buckets long
        long spanMs = Duration.between(w.start(), t).toMillis();
        assertThat(spanMs).isBetween((WindowSpec.ROLLING_BUCKETS - 1) * bucketMs, WindowSpec.ROLLING_BUCKETS * bucketMs);
        assertThat(w.rollOffTime(w.bucket())).isEqualTo(Instant.ofEpochMilli((w.bucket() + 60) * bucketMs));
        assertThat(w.key()).isEqualTo("rolling-7d");
    }

    @Test
    void cachedWindowIsRecomputedWhenTimeLeavesIt() {
        WindowSpec day = WindowSpec.calendar(Period.DAY, ZoneId.of("UTC"));
        WindowRef a = day.at(Instant.parse("2026-11-28T10:00:00Z"));
        assertThat(day.at(Instant.parse("2026-11-28T23:59:59Z"))).isSameAs(a);
        assertThat(day.at(Instant.parse("2026-11-29T00:00:00Z")).key()).isEqualTo("day:2026-11-29");
        assertThat(day.at(Instant.parse("2026-11-27T23:00:00Z")).key()).isEqualTo("day:2026-11-27");
    }
}
