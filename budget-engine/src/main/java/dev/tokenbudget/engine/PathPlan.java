package dev.tokenbudget.engine;

import dev.tokenbudget.allocation.AllocationSpec;
import dev.tokenbudget.allocation.AllocationTree;
import dev.tokenbudget.allocation.HoldSpec;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotAllocation;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Everything about a config that does not change per request, computed once per config
 * snapshot: keys by hash, each budget's windows with their enforcement caps, and trees' roots.
 * Per request, only the window instances are filled in.
 */
final class PathPlan {

    /**
     * A window of a budget, ready to become a {@link Slot}; {@code allocation} null when it takes no
     * part; {@code degradeLines} the used + reserved tokens per dimension at which its budget degrades
     * ({@link OutputClamp#lines}), null when it has no degrade_route threshold.
     */
    record PlannedWindow(WindowLimit window, Limits caps, List<Integer> thresholds, PlannedAllocation allocation,
                         Limits degradeLines) {
    }

    /**
     * A window's part in cross-team allocation, config-fixed: the parent window it is linked to
     * (null for none), whether it overflows and how far, and, for a pool window, its headroom and
     * the config's holds on it.
     */
    record PlannedAllocation(String parent, String parentWindow, boolean overflow, Limits overflowCap,
                             TokenCounts headroom, List<HoldSpec> holds) {
    }

    /** A budget on a request's path: its id (generated for user budgets) and its definition. */
    record Entry(String id, Budget budget, List<PlannedWindow> windows) {
    }

    final EngineConfig config;
    final AllocationTree allocation;
    private final Map<String, VirtualKey> keysByHash = new HashMap<>();
    private final Map<String, Entry> entries = new HashMap<>();
    private final Map<String, List<PlannedWindow>> userTemplates = new HashMap<>();
    /** Per configured key (by identity), its paths without a user budget by chain start, planned on first use. */
    private final Map<VirtualKey, ConcurrentHashMap<String, PlannedPath>> plannedPaths = new IdentityHashMap<>();

    PathPlan(EngineConfig config) {
        this.config = config;
        this.allocation = new AllocationTree(config.budgets());
        for (Budget b : config.budgets().budgets()) {
            entries.put(b.id(), new Entry(b.id(), b, plan(b, allocation)));
        }
        for (VirtualKey k : config.keys()) {
            keysByHash.put(k.sha256(), k);
            plannedPaths.put(k, new ConcurrentHashMap<>());
            // key and user budgets hang below the tree without being allotted anything by it
            k.own().ifPresent(b -> entries.put(b.id(), new Entry(b.id(), b, plan(b, null))));
            if (k.userTemplate() != null) {
                userTemplates.put(k.name(), plan(k.userTemplate(), null));
            }
        }
    }

    private static List<PlannedWindow> plan(Budget b, AllocationTree tree) {
        List<Integer> thresholds = b.thresholds().stream().map(Threshold::percent).toList();
        List<PlannedWindow> out = new ArrayList<>();
        for (WindowLimit w : b.windows()) {
            Limits caps = caps(w.limits(), b.hardStopPercent());
            out.add(new PlannedWindow(w, caps, thresholds, tree == null ? null : allocation(b, w, tree),
                    OutputClamp.lines(b, w.limits())));
        }
        return List.copyOf(out);
    }

    private static PlannedAllocation allocation(Budget b, WindowLimit w, AllocationTree tree) {
        String name = w.window().name();
        AllocationTree.Link link = tree.link(b.id(), name).orElse(null);
        TokenCounts headroom = tree.headroom(b.id(), name);
        if (link == null && headroom == null) {
            return null;
        }
        List<HoldSpec> holds = b.allocation().map(AllocationSpec::holds).orElse(List.of()).stream()
                .filter(h -> h.window().equals(name)).toList();
        return new PlannedAllocation(link == null ? null : link.parent(),
                link == null ? null : link.parentWindow().window().name(), link != null && b.overflow().enabled(),
                b.overflow().capFor(w.limits()), headroom, holds);
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

    /** A budget's window at {@code now} as a plain slot (no allocation), or null for an unknown one. */
    Slot slot(String budgetId, String windowName, Instant now) {
        Entry e = entries.get(budgetId);
        if (e == null) {
            return null;
        }
        for (PlannedWindow w : e.windows()) {
            if (w.window().window().name().equals(windowName)) {
                return new Slot(e.id(), w.window().window().at(now), w.window().limits(), w.caps(), w.thresholds());
            }
        }
        return null;
    }

    /** The windows of the children linked to a pool window, at {@code now}, in config order. */
    List<Slot> linkedChildren(String parent, String windowName, Instant now) {
        List<Slot> out = new ArrayList<>();
        for (String c : allocation.children(parent, windowName)) {
            for (PlannedWindow w : entries.get(c).windows()) {
                PlannedAllocation a = w.allocation();
                if (a != null && parent.equals(a.parent()) && windowName.equals(a.parentWindow())) {
                    out.add(slot(c, w.window().window().name(), now));
                }
            }
        }
        return out;
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

    /**
     * The path of a request of {@code key} without a user budget, planned once per chain start; null
     * for a key that is not this config's (the caller then plans the path itself).
     */
    PlannedPath planned(VirtualKey key, String chainStart) {
        ConcurrentHashMap<String, PlannedPath> paths = plannedPaths.get(key);
        if (paths == null) {
            return null;
        }
        PlannedPath p = paths.get(chainStart);
        return p != null ? p : paths.computeIfAbsent(chainStart, c -> new PlannedPath(path(key, c, null)));
    }

    static List<Slot> slots(List<Entry> path, Instant now) {
        List<Slot> slots = new ArrayList<>(path.size() * 2);
        boolean allocated = false;
        for (Entry e : path) {
            for (PlannedWindow w : e.windows()) {
                slots.add(new Slot(e.id(), w.window().window().at(now), w.window().limits(), w.caps(),
                        w.thresholds()));
                allocated |= w.allocation() != null;
            }
        }
        return allocated ? allocate(path, slots, now) : slots;
    }

    /** Fills in the slots' allocation: links to parent slots further up the path, pools, active holds. */
    private static List<Slot> allocate(List<Entry> path, List<Slot> slots, Instant now) {
        List<PlannedWindow> planned = new ArrayList<>(slots.size());
        for (Entry e : path) {
            planned.addAll(e.windows());
        }
        for (int i = 0; i < slots.size(); i++) {
            PlannedAllocation a = planned.get(i).allocation();
            if (a == null) {
                continue;
            }
            Slot s = slots.get(i);
            SlotAllocation sa = SlotAllocation.NONE;
            if (a.headroom() != null) {
                sa = SlotAllocation.pool(a.headroom(), holds(a.holds(), s, now));
            }
            int parent = a.parent() == null ? -1 : indexOf(slots, planned, a.parent(), a.parentWindow(), i);
            if (parent >= 0) {
                sa = sa.withParent(parent, a.overflow(), a.overflowCap());
            }
            slots.set(i, s.withAllocation(sa));
        }
        return slots;
    }

    private static int indexOf(List<Slot> slots, List<PlannedWindow> planned, String budget, String window, int after) {
        for (int j = after + 1; j < slots.size(); j++) {
            if (slots.get(j).budgetId().equals(budget) && planned.get(j).window().window().name().equals(window)
                    && planned.get(j).allocation() != null && planned.get(j).allocation().headroom() != null) {
                return j;
            }
        }
        return -1;
    }

    /** The config's holds on a window instance, each ending at the window's end or {@code for_last} before it. */
    static List<Hold> holds(List<HoldSpec> specs, Slot s, Instant now) {
        if (specs.isEmpty()) {
            return List.of();
        }
        List<Hold> out = new ArrayList<>(specs.size());
        for (HoldSpec h : specs) {
            Instant until = h.forLast() == null ? s.window().end() : s.window().end().minus(h.forLast());
            out.add(new Hold(h.id(), h.forBudget(), counts(h.tokens()), until));
        }
        return out;
    }

    /** The definition of budget {@code id} on a path. */
    static Budget budgetOf(List<PathPlan.Entry> path, String id) {
        for (PathPlan.Entry e : path) {
            if (e.id().equals(id)) {
                return e.budget();
            }
        }
        throw new IllegalStateException("budget " + id + " is not on the path");
    }

    static TokenCounts counts(Limits l) {
        return new TokenCounts(Math.max(0, l.input()), Math.max(0, l.output()), Math.max(0, l.total()));
    }
}
