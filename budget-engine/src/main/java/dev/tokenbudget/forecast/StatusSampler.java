package dev.tokenbudget.forecast;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Feeds an {@link InMemoryUsageHistory} from the engine's status until the store keeps history:
 * at each call, per configured budget, the growth of one calendar window's settled usage since
 * the last call is recorded at that moment (a new window instance counts from its start). Calendar
 * windows only ever grow within an instance, so nothing is counted twice; usage is placed at the
 * sampling time, so sample at least hourly. Budgets with only rolling windows are not sampled
 * (their usage also shrinks as it rolls off). Not thread-safe: call from one thread.
 */
public final class StatusSampler {

    private final BudgetEngine engine;
    private final InMemoryUsageHistory history;
    private final Map<String, Seen> last = new HashMap<>();

    private record Seen(String window, TokenCounts used) {
    }

    public StatusSampler(BudgetEngine engine, InMemoryUsageHistory history) {
        this.engine = engine;
        this.history = history;
    }

    /** Records what settled since the previous call; returns how many budgets moved. */
    public int sample() {
        Instant now = engine.clock().now();
        int moved = 0;
        for (String id : budgetIds()) {
            Optional<BudgetStatus.WindowStatus> w = engine.status(id).flatMap(StatusSampler::calendarWindow);
            if (w.isEmpty()) {
                continue;
            }
            TokenCounts used = w.get().used();
            Seen prev = last.put(id, new Seen(w.get().window(), used));
            TokenCounts base = prev != null && prev.window().equals(w.get().window()) ? prev.used() : TokenCounts.ZERO;
            long in = Math.max(0, used.input() - base.input());
            long out = Math.max(0, used.output() - base.output());
            if (prev == null) {
                continue; // the first sample only sets the baseline: its usage may predate the history
            }
            if (in + out > 0) {
                history.record(List.of(id), now, in, out);
                moved++;
            }
        }
        return moved;
    }

    private List<String> budgetIds() {
        List<String> ids = new ArrayList<>();
        for (Budget b : engine.config().budgets().budgets()) {
            ids.add(b.id());
        }
        engine.config().keys().forEach(k -> k.own().ifPresent(b -> ids.add(b.id())));
        return ids;
    }

    /** The shortest calendar window: the finest-grained counter that only grows. */
    private static Optional<BudgetStatus.WindowStatus> calendarWindow(BudgetStatus s) {
        BudgetStatus.WindowStatus best = null;
        for (BudgetStatus.WindowStatus w : s.windows()) {
            if (w.window().contains(":") && (best == null
                    || w.end().toEpochMilli() - w.start().toEpochMilli()
                    < best.end().toEpochMilli() - best.start().toEpochMilli())) {
                best = w;
            }
        }
        return Optional.ofNullable(best);
    }
}
