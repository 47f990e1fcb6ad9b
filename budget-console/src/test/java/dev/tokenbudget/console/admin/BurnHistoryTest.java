package dev.tokenbudget.console.admin;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.store.TokenCounts;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BurnHistoryTest {

    private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
    private static final Instant END = Instant.parse("2026-12-01T00:00:00Z");

    private static List<BudgetStatus> status(String windowKey, Instant start, long used) {
        return List.of(new BudgetStatus("b", null, "b", List.of(), List.of(new BudgetStatus.WindowStatus(windowKey,
                start, END, Limits.total(1000), TokenCounts.of(used, 0), TokenCounts.ZERO, used / 1000.0,
                BudgetStatus.State.OK))));
    }

    @Test
    void keepsOnePointPerSampleInOrder() {
        BurnHistory h = new BurnHistory(100);
        for (int i = 0; i < 5; i++) {
            h.sample(status("month:2026-11", T0, i * 10L), T0.plusSeconds(60L * i));
        }
        assertThat(h.points("b", "month:2026-11")).extracting(BurnHistory.Point::total)
                .containsExactly(0L, 10L, 20L, 30L, 40L);
        assertThat(h.points("b", "nope")).isEmpty();
    }

    @Test
    void thinsToHalfWhenFullAndStillSpansTheWholeSeries() {
        BurnHistory h = new BurnHistory(8);
        for (int i = 0; i <= 20; i++) {
            h.sample(status("month:2026-11", T0, i), T0.plusSeconds(60L * i));
        }
        List<BurnHistory.Point> ps = h.points("b", "month:2026-11");
        assertThat(ps.size()).isLessThanOrEqualTo(8);
        assertThat(ps.get(0).at()).isEqualTo(T0);
        assertThat(ps.get(ps.size() - 1).total()).isEqualTo(20);
        assertThat(ps).isSortedAccordingTo((a, b) -> a.at().compareTo(b.at()));
    }

    @Test
    void collapsesAFlatStretchToItsEnds() {
        BurnHistory h = new BurnHistory(100);
        h.sample(status("month:2026-11", T0, 5), T0);
        for (int i = 1; i <= 10; i++) {
            h.sample(status("month:2026-11", T0, 7), T0.plusSeconds(60L * i));
        }
        assertThat(h.points("b", "month:2026-11")).extracting(BurnHistory.Point::total).containsExactly(5L, 7L, 7L);
        assertThat(h.points("b", "month:2026-11").get(2).at()).isEqualTo(T0.plusSeconds(600));
    }

    @Test
    void forgetsAnEndedWindowAndDropsPointsARollingWindowLeftBehind() {
        BurnHistory h = new BurnHistory(100);
        h.sample(status("month:2026-10", T0, 5), T0);
        h.sample(status("month:2026-11", T0, 1), T0.plusSeconds(60));
        assertThat(h.points("b", "month:2026-10")).isEmpty();
        h.sample(status("rolling-1d", T0, 3), T0.plusSeconds(120));
        h.sample(status("rolling-1d", T0.plusSeconds(200), 4), T0.plusSeconds(240));
        assertThat(h.points("b", "rolling-1d")).extracting(BurnHistory.Point::total).containsExactly(4L);
    }

    @Test
    void ignoresASampleThatDoesNotMoveTimeForward() {
        BurnHistory h = new BurnHistory(100);
        h.sample(status("month:2026-11", T0, 5), T0.plusSeconds(60));
        h.sample(status("month:2026-11", T0, 9), T0.plusSeconds(60));
        assertThat(h.points("b", "month:2026-11")).extracting(BurnHistory.Point::total).containsExactly(5L);
    }

    @Test
    void refusesATinyCapacity() {
        assertThatThrownBy(() -> new BurnHistory(3)).hasMessageContaining("at least 4 points");
    }
}
