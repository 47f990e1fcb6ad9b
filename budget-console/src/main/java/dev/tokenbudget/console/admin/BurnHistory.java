package dev.tokenbudget.console.admin;

import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Cumulative usage over time per budget window, for the burn-down chart. The engine keeps counters,
 * not history, so the admin server samples {@code engine.status()} at an interval and keeps the
 * points here, in memory: a chart starts at the host's start (or the window's, if later) and a
 * restart forgets what was drawn. Each series holds at most {@code maxPoints}; when full, every
 * other point is dropped, so a series always spans its whole window at a coarser step. Unchanged
 * stretches collapse to their two ends. Thread-safe.
 */
final class BurnHistory {

    /** Used tokens of a window at an instant. */
    record Point(Instant at, long input, long output, long total) {
        static Point of(Instant at, TokenCounts used) {
            return new Point(at, used.input(), used.output(), used.total());
        }

        boolean sameCounts(Point o) {
            return input == o.input && output == o.output && total == o.total;
        }
    }

    private final int maxPoints;
    private final Map<String, List<Point>> series = new HashMap<>();

    BurnHistory(int maxPoints) {
        if (maxPoints < 4) {
            throw new IllegalArgumentException("a burn-down history needs at least 4 points, was " + maxPoints);
        }
        this.maxPoints = maxPoints;
    }

    /** Adds one point per window of each budget at {@code now}; forgets windows no longer current. */
    synchronized void sample(List<BudgetStatus> statuses, Instant now) {
        Set<String> live = new HashSet<>();
        for (BudgetStatus s : statuses) {
            for (BudgetStatus.WindowStatus w : s.windows()) {
                String k = key(s.budgetId(), w.window());
                live.add(k);
                add(series.computeIfAbsent(k, x -> new ArrayList<>()), Point.of(now, w.used()), w.start());
            }
        }
        series.keySet().retainAll(live);
    }

    private void add(List<Point> ps, Point p, Instant windowStart) {
        // a rolling window slides: points from before its oldest bucket no longer describe it
        ps.removeIf(x -> x.at().isBefore(windowStart));
        int n = ps.size();
        if (n > 0 && !p.at().isAfter(ps.get(n - 1).at())) {
            return;
        }
        if (n >= 2 && ps.get(n - 1).sameCounts(p) && ps.get(n - 2).sameCounts(p)) {
            ps.set(n - 1, p);
            return;
        }
        ps.add(p);
        if (ps.size() > maxPoints) {
            List<Point> thinned = new ArrayList<>(maxPoints / 2 + 2);
            for (int i = 0; i < ps.size() - 1; i += 2) {
                thinned.add(ps.get(i));
            }
            thinned.add(ps.get(ps.size() - 1));
            ps.clear();
            ps.addAll(thinned);
        }
    }

    /** The points of one window (by its key, e.g. {@code month:2026-11}), oldest first. */
    synchronized List<Point> points(String budgetId, String windowKey) {
        List<Point> ps = series.get(key(budgetId, windowKey));
        return ps == null ? List.of() : List.copyOf(ps);
    }

    private static String key(String budgetId, String windowKey) {
        return budgetId + "\n" + windowKey;
    }
}
