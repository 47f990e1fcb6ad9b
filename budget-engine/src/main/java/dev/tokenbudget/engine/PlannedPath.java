package dev.tokenbudget.engine;

import dev.tokenbudget.store.Slot;
import dev.tokenbudget.window.WindowSpec;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A request path that every request of a key and chain start shares (no per-user budget on it):
 * planned once per config snapshot, its slots rebuilt only when one of its windows moves on (a new
 * calendar window, a new rolling bucket). A decision on it then builds no path, no slots and no
 * list of budget ids. Thread-safe: the slots are immutable, and a thread that finds them stale
 * builds equal ones.
 */
final class PlannedPath {

    /** The slots of the path for one set of window instances, and the distinct budget ids they charge. */
    record Slots(List<Slot> slots, List<String> budgetIds) {
    }

    private final List<PathPlan.Entry> entries;
    /** Per slot, the window it is an instance of. */
    private final WindowSpec[] windows;
    private volatile Slots current;

    PlannedPath(List<PathPlan.Entry> entries) {
        this.entries = List.copyOf(entries);
        List<WindowSpec> specs = new ArrayList<>();
        for (PathPlan.Entry e : entries) {
            for (PathPlan.PlannedWindow w : e.windows()) {
                specs.add(w.window().window());
            }
        }
        this.windows = specs.toArray(new WindowSpec[0]);
    }

    List<PathPlan.Entry> entries() {
        return entries;
    }

    /** The slots at {@code now}: the ones built before while every window is the same instance. */
    Slots at(Instant now) {
        Slots c = current;
        if (c != null && sameWindows(c.slots(), now)) {
            return c;
        }
        List<Slot> slots = List.copyOf(PathPlan.slots(entries, now));
        c = new Slots(slots, Ticket.budgetIds(slots));
        current = c;
        return c;
    }

    private boolean sameWindows(List<Slot> slots, Instant now) {
        for (int i = 0; i < windows.length; i++) {
            // WindowSpec.at returns its cached instance while it covers now: identity is the cheap test
            if (slots.get(i).window() != windows[i].at(now)) {
                return false;
            }
        }
        return true;
    }
}
