package dev.tokenbudget.ledger;

import dev.tokenbudget.testing.Together;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class LedgerTest {

    private static final Instant T0 = Instant.parse("2026-11-02T09:00:00Z");

    private static LedgerChange limits(String budget, long before, long after, String key) {
        return new LedgerChange(LedgerChange.Kind.LIMITS_CHANGED, budget, "month", Map.of("total", before),
                Map.of("total", after), "test", null, key);
    }

    @Test
    void appendsInOrderAndListsAfterASequencePerBudget() {
        Ledger l = Ledger.inMemory();
        l.append(T0, limits("a", 1, 2, null));
        l.append(T0.plusSeconds(1), limits("b", 1, 2, null));
        LedgerEntry third = l.append(T0.plusSeconds(2), limits("a", 2, 3, null));
        assertThat(third.seq()).isEqualTo(3);
        assertThat(l.lastSeq()).isEqualTo(3);
        assertThat(l.after(0, 10, null)).extracting(LedgerEntry::seq).containsExactly(1L, 2L, 3L);
        assertThat(l.after(1, 10, "a")).extracting(LedgerEntry::seq).containsExactly(3L);
        assertThat(l.after(0, 1, null)).extracting(LedgerEntry::seq).containsExactly(1L);
        assertThat(l.after(99, 10, null)).isEmpty();
    }

    @Test
    void recordsAChangeWithAnIdempotencyKeyOnce() {
        Ledger l = Ledger.inMemory();
        LedgerEntry first = l.append(T0, limits("a", 1, 2, "rebalance:2026-11:a"));
        LedgerEntry again = l.append(T0.plusSeconds(60), limits("a", 1, 2, "rebalance:2026-11:a"));
        assertThat(again).isEqualTo(first);
        assertThat(l.lastSeq()).isEqualTo(1);
    }

    @Test
    void concurrentAppendsAreNumberedWithoutGapsAndReplaysCountOnce() throws Exception {
        Ledger l = Ledger.inMemory();
        int threads = 8;
        // every thread replays the same 500 keyed steps: each is recorded once
        Together.run(threads, t -> {
            for (int i = 0; i < 500; i++) {
                l.append(T0, limits("a", i, i + 1, "step-" + i));
            }
        });
        List<LedgerEntry> all = l.after(0, Integer.MAX_VALUE, null);
        assertThat(all).hasSize(500);
        assertThat(all).extracting(e -> e.change().idempotencyKey()).doesNotHaveDuplicates();
        for (int i = 0; i < all.size(); i++) {
            assertThat(all.get(i).seq()).isEqualTo(i + 1L);
        }
    }
}
