package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.Slot;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything about a config that does not change per request, computed once per config
 * snapshot: keys by hash, each budget's windows with their enforcement caps, and trees' roots.
 * Per request, only the window instances are filled in.
 */
final class PathPlan {

    /** A window of a budget, ready to become a {@link Slot}. */
    record PlannedWindow(WindowLimit window, Limits caps, List<Integer> thresholds) {
    }

    /** A budget on a request's path: its id (generated for user budgets) and its definition. */
    record Entry(String id, Budget budget, List<PlannedWindow> windows) {
    }

    final EngineConfig config;
    private final Map<String, VirtualKey> keysByHash = new HashMap<>();
    private final Map<String, Entry> entries = new HashMap<>();
    private final Map<String, List<PlannedWindow>> userTemplates = new HashMap<>();

    PathPlan(EngineConfig config) {
        this.config = config;
        for (Budget b : config.budgets().budgets()) {
            entries.put(b.id(), new Entry(b.id(), b, plan(b)));
        }
        for (VirtualKey k : config.keys()) {
            keysByHash.put(k.sha256(), k);
            k.own().ifPresent(b -> entries.put(b.id(), new Entry(b.id(), b, plan(b))));
            if (k.userTemplate() != null) {
                userTemplates.put(k.name(), plan(k.userTemplate()));
            }
        }
    }

    private static List<PlannedWindow> plan(Budget b) {
        List<Integer> thresholds = b.thresholds().stream().map(Threshold::percent).toList();
        List<PlannedWindow> out = new ArrayList<>();
        for (WindowLimit w : b.windows()) {
            out.add(new PlannedWindow(w, caps(w.limits(), b.hardStopPercent()), thresholds));
        }
        return List.copyOf(out);
    }

    /** The most that used + reserved may reach: the limit scaled to the lowest hard-stop threshold. */
    static Limits caps(Limits limits, int hardStopPercent) {
        if (hardStopPercent < 0) {
            return new Limits(Limits.NONE, Limits.NONE, Limits.NONE);
        }
        Limits caps = limits;
        for (Dimension d : Dimension.values()) {
            if (limits.has(d)) {
                // limits are at most 2^53 and percents at most 100, so the product cannot overflow
                caps = caps.with(d, Math.max(1, limits.get(d) * hardStopPercent / 100));
            }
        }
        return caps;
    }

    VirtualKey keyByHash(String sha256) {
        return keysByHash.get(sha256);
    }

    Entry entry(String budgetId) {
        return entries.get(budgetId);
    }

    /** The path of a request, deepest budget first: user, key, then the feature (or key) budget's chain. */
    List<Entry> path(VirtualKey key, String chainStart, String user) {
        List<Entry> out = new ArrayList<>(6);
        if (user != null && key.userTemplate() != null) {
            out.add(new Entry(VirtualKey.userBudgetId(key.name(), user), key.userTemplate(),
                    userTemplates.get(key.name())));
        }
        key.own().ifPresent(b -> out.add(entries.get(b.id())));
        for (Budget b : config.budgets().chain(chainStart)) {
            out.add(entries.get(b.id()));
        }
        return out;
    }

    static List<Slot> slots(List<Entry> path, Instant now) {
        List<Slot> slots = new ArrayList<>(path.size() * 2);
        for (Entry e : path) {
            for (PlannedWindow w : e.windows()) {
                slots.add(new Slot(e.id(), w.window().window().at(now), w.window().limits(), w.caps(),
                        w.thresholds()));
            }
        }
        return slots;
    }
}
