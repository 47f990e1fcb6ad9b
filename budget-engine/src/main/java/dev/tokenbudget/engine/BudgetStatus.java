package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.List;

/** A budget's state now: per window, limits, used and reserved tokens, utilisation and state. */
public record BudgetStatus(String budgetId, String parent, String treeId, List<String> children,
                           List<WindowStatus> windows) {

    /** Where a window stands against its thresholds. */
    public enum State {
        OK,
        WARNING,
        DEGRADED,
        BLOCKED
    }

    /** One window's numbers. */
    public record WindowStatus(String window, Instant start, Instant end, Limits limits, TokenCounts used,
                               TokenCounts reserved, double utilisation, State state) {
    }

    /** The highest utilisation of any window (1.0 = 100%). */
    public double utilisation() {
        return windows.stream().mapToDouble(WindowStatus::utilisation).max().orElse(0);
    }
}
