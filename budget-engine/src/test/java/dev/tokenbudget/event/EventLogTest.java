package dev.tokenbudget.event;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.testing.Together;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventLogTest {

    private static final Instant T0 = Instant.parse("2026-11-02T09:00:00Z");

    private static BudgetEvent limits(String budget, int n) {
        return new BudgetEvent.LimitsChanged(T0.plusSeconds(n), budget, "w" + n, Limits.total(n + 1),
                Limits.total(n + 2));
    }

    @Test
    void numbersEventsFromOneAndPagesAfterASequence() {
        EventLog log = new EventLog(10);
        for (int i = 0; i < 5; i++) {
            log.onEvent(limits("a", i));
        }
        assertThat(log.lastSeq()).isEqualTo(5);
        assertThat(log.after(0, 100, e -> true)).extracting(EventLog.Entry::seq).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(log.after(3, 100, e -> true)).extracting(EventLog.Entry::seq).containsExactly(4L, 5L);
        assertThat(log.after(1, 2, e -> true)).extracting(EventLog.Entry::seq).containsExactly(2L, 3L);
        assertThat(log.after(5, 100, e -> true)).isEmpty();
    }

    @Test
    void keepsTheNewestAndCountsWhatItPushedOut() {
        EventLog log = new EventLog(3);
        for (int i = 0; i < 8; i++) {
            log.onEvent(limits("a", i));
        }
        assertThat(log.evicted()).isEqualTo(5);
        assertThat(log.firstSeq()).isEqualTo(6);
        assertThat(log.after(0, 100, e -> true)).extracting(EventLog.Entry::seq).containsExactly(6L, 7L, 8L);
        // a reader behind the ring resumes at the oldest held; the gap 3 -> 6 shows the loss
        assertThat(log.after(2, 100, e -> true)).extracting(EventLog.Entry::seq).containsExactly(6L, 7L, 8L);
        assertThat(log.latest(2, e -> true)).extracting(EventLog.Entry::seq).containsExactly(7L, 8L);
    }

    @Test
    void filtersByEventAndByTime() {
        EventLog log = new EventLog(100);
        for (int i = 0; i < 6; i++) {
            log.onEvent(limits(i % 2 == 0 ? "even" : "odd", i));
        }
        assertThat(log.after(0, 100, e -> e.budgetId().equals("odd"))).extracting(EventLog.Entry::seq)
                .containsExactly(2L, 4L, 6L);
        assertThat(log.since(T0.plusSeconds(4), 100, e -> true)).extracting(EventLog.Entry::seq)
                .containsExactly(5L, 6L);
        assertThat(log.latest(2, e -> e.budgetId().equals("even"))).extracting(EventLog.Entry::seq)
                .containsExactly(3L, 5L);
    }

    @Test
    void refusesANonPositiveCapacity() {
        assertThatThrownBy(() -> new EventLog(0)).hasMessageContaining("at least 1, was 0");
    }

    @Test
    void concurrentWritersGetUniqueContiguousNumbersInTheirOwnOrder() throws Exception {
        int threads = 8;
        int perThread = 5_000;
        EventLog log = new EventLog(threads * perThread);
        Together.run(threads, t -> {
            for (int i = 0; i < perThread; i++) {
                log.onEvent(limits("t" + t, i));
            }
        });
        List<EventLog.Entry> all = log.after(0, Integer.MAX_VALUE, e -> true);
        assertThat(all).hasSize(threads * perThread);
        Map<String, Integer> lastOfThread = new HashMap<>();
        for (int i = 0; i < all.size(); i++) {
            EventLog.Entry e = all.get(i);
            assertThat(e.seq()).isEqualTo(i + 1L);
            int n = Integer.parseInt(((BudgetEvent.LimitsChanged) e.event()).window().substring(1));
            Integer prev = lastOfThread.put(e.event().budgetId(), n);
            assertThat(n).isEqualTo(prev == null ? 0 : prev + 1);
        }
    }
}
