package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.Quantities;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.store.AllocationState;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.store.HoldCommand;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.time.BudgetClock;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Holds made at run time ({@code BudgetEngine.reservations()}): tokens of a budget's calendar
 * window kept for one of its children, or kept from everybody until a given time. They live in
 * the store, so every engine sharing it enforces them at once, and each is recorded in the ledger.
 * A run-time hold belongs to the window instance it was made in and ends with it at the latest.
 * Holds declared in the config recur every window and cannot be deleted here.
 */
public final class Reservations {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Supplier<PathPlan> plan;
    private final BudgetStore store;
    private final BudgetClock clock;
    private final Consumer<LedgerEntry> recorded;

    Reservations(Supplier<PathPlan> plan, BudgetStore store, BudgetClock clock, Consumer<LedgerEntry> recorded) {
        this.plan = plan;
        this.store = store;
        this.clock = clock;
        this.recorded = recorded;
    }

    /**
     * Makes a hold; returns it as stored.
     *
     * @throws IllegalArgumentException for an unknown budget or window, a beneficiary that is not a
     *         direct child linked to the window's pool, tokens in a dimension the window does not
     *         limit, an end outside the window, or an id already in use in the window
     */
    public Hold create(HoldRequest r) {
        PathPlan p = plan.get();
        Instant now = clock.now();
        Budget b = budget(p, r.budget());
        WindowLimit w = window(b, r.window());
        Slot slot = p.slot(b.id(), w.window().name(), now);
        for (Dimension d : Dimension.values()) {
            if (r.tokens().has(d) && !w.limits().has(d)) {
                throw new IllegalArgumentException("window '" + w.window().name() + "' of '" + b.id()
                        + "' does not limit " + d.label() + " tokens: nothing to hold there");
            }
        }
        if (r.forBudget() != null) {
            boolean linked = p.linkedChildren(b.id(), w.window().name(), now).stream()
                    .anyMatch(c -> c.budgetId().equals(r.forBudget()));
            if (!linked) {
                throw new IllegalArgumentException("'" + r.forBudget() + "' is not a child of '" + b.id()
                        + "' linked to its " + w.window().name() + " pool (a hold for a child needs the parent to "
                        + "allocate: give it an 'allocation:' section, and the child a window of the same period)");
            }
        }
        Instant end = slot.window().end();
        Instant until = r.until() == null ? end : r.until();
        if (!until.isAfter(now) || until.isAfter(end)) {
            throw new IllegalArgumentException("a hold made at run time lasts from now until at most the end of its "
                    + "window (" + end + "), was until " + until);
        }
        String id = r.id() == null ? "h-" + HexFormat.of().formatHex(randomBytes()) : r.id();
        if (!ConfigLoader.ID.matcher(id).matches()) {
            throw new IllegalArgumentException("hold id must be 1-64 of A-Z a-z 0-9 . _ -, was '" + id + "'");
        }
        Hold hold = new Hold(id, r.forBudget(), PathPlan.counts(r.tokens()), until);
        String what = Quantities.formatTokens(hold.tokens().total() > 0 ? hold.tokens().total()
                : Math.max(hold.tokens().input(), hold.tokens().output())) + " tokens of '" + b.id() + "' held "
                + (r.forBudget() == null ? "from every budget" : "for '" + r.forBudget() + "'") + " until " + until;
        HoldCommand.Result res = store.changeHold(new HoldCommand(p.config.budgets().rootOf(b.id()), now, slot, hold,
                false, r.actor(), r.reason().isEmpty() ? what : r.reason() + " (" + what + ")"));
        if (!res.changed()) {
            throw new IllegalArgumentException("a hold '" + id + "' exists already in " + slot.key());
        }
        recorded.accept(res.entry());
        return hold;
    }

    /**
     * Deletes a run-time hold of {@code budgetId}'s current windows; its tokens are free at once.
     * Returns false when there is no such hold (ended, deleted before, or never made).
     *
     * @throws IllegalArgumentException for an unknown budget, or a hold declared in the config
     */
    public boolean delete(String budgetId, String holdId, String actor, String reason) {
        PathPlan p = plan.get();
        Instant now = clock.now();
        Budget b = budget(p, budgetId);
        boolean inConfig = b.allocation().map(a -> a.holds().stream().anyMatch(h -> h.id().equals(holdId)))
                .orElse(false);
        if (inConfig) {
            throw new IllegalArgumentException("hold '" + holdId + "' is declared in the config; remove it there");
        }
        Hold gone = new Hold(holdId, null, dev.tokenbudget.store.TokenCounts.ZERO, now.plusSeconds(1));
        for (WindowLimit w : calendar(b)) {
            Slot slot = p.slot(b.id(), w.window().name(), now);
            HoldCommand.Result res = store.changeHold(new HoldCommand(p.config.budgets().rootOf(b.id()), now, slot,
                    gone, true, actor == null || actor.isBlank() ? "api" : actor, reason == null ? "" : reason));
            if (res.changed()) {
                recorded.accept(res.entry());
                return true;
            }
        }
        return false;
    }

    /** The holds in force on {@code budgetId}'s calendar windows now, from the config and made at run time. */
    public List<AllocationStatus.HoldStatus> list(String budgetId) {
        PathPlan p = plan.get();
        Instant now = clock.now();
        Budget b = budget(p, budgetId);
        String tree = p.config.budgets().rootOf(b.id());
        List<AllocationStatus.HoldStatus> out = new ArrayList<>();
        for (WindowLimit w : calendar(b)) {
            String name = w.window().name();
            Slot slot = p.slot(b.id(), name, now);
            List<Slot> kids = p.linkedChildren(b.id(), name, now);
            AllocationState st = store.readAllocation(tree, slot, kids, now);
            List<AllocationStatus.Child> children = AllocationView.children(p, store, tree, kids, st, now);
            out.addAll(AllocationView.holds(b, name, slot, st.holds(), children, now));
        }
        return out;
    }

    private static Budget budget(PathPlan p, String id) {
        return p.config.budgets().get(id).orElseThrow(() -> new IllegalArgumentException("unknown budget '" + id
                + "'"));
    }

    private static List<WindowLimit> calendar(Budget b) {
        return b.windows().stream().filter(w -> w.window().period().isCalendar()).toList();
    }

    private static WindowLimit window(Budget b, String name) {
        List<WindowLimit> cal = calendar(b);
        if (name == null) {
            if (cal.size() != 1) {
                throw new IllegalArgumentException("budget '" + b.id() + "' has " + cal.size()
                        + " calendar windows; name one of " + cal.stream().map(w -> w.window().name()).toList());
            }
            return cal.get(0);
        }
        return cal.stream().filter(w -> w.window().name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("budget '" + b.id() + "' has no calendar window '"
                        + name + "'; calendar windows: " + cal.stream().map(w -> w.window().name()).toList()));
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return b;
    }
}
