package dev.tokenbudget.console.admin;

import dev.tokenbudget.allocation.AllocationTree;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.BudgetTree;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.engine.AllocationStatus;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.HoldRequest;
import dev.tokenbudget.store.Hold;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The admin API's reservations on the allocation engine: a reservation for budget B is a hold of
 * B's parent's tokens kept for B (its siblings cannot use them), made in the store through
 * {@code engine.reservations()}, so every engine sharing it enforces it and the ledger records it
 * (under the same idempotency keys the admin API uses, so it is recorded once). See
 * docs/allocation.md#holds.
 */
public final class EngineReservations implements ReservationService {

    private final BudgetEngine engine;

    public EngineReservations(BudgetEngine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    @Override
    public Reservation create(String budgetId, Request r) {
        Instant now = engine.clock().now();
        if (r.from() != null && r.from().isAfter(now)) {
            throw new IllegalArgumentException("a hold starts when it is made: 'from' must be absent or not later than "
                    + "now (" + now + "); to keep tokens for later, hold them until then on the parent");
        }
        Link link = link(budgetId, r.window());
        Hold h = engine.reservations().create(HoldRequest.forChild(link.parent(), budgetId, Limits.total(r.tokens()))
                .window(link.parentWindow()).until(r.until()).by("admin-api", r.note()));
        return view(budgetId, link.window(), h, r.note(), now);
    }

    @Override
    public Optional<Reservation> cancel(String budgetId, String reservationId) {
        Optional<Reservation> found = list(budgetId).stream().filter(x -> x.id().equals(reservationId)).findFirst();
        if (found.isEmpty()) {
            return Optional.empty();
        }
        String parent = parentOf(budgetId);
        return engine.reservations().delete(parent, reservationId, "admin-api", "cancelled") ? found
                : Optional.empty();
    }

    @Override
    public List<Reservation> list(String budgetId) {
        String parent = parentOf(budgetId);
        if (parent == null) {
            return List.of();
        }
        String window = link(budgetId, null).window();
        return engine.reservations().list(parent).stream()
                .filter(s -> !s.fromConfig() && budgetId.equals(s.hold().forBudget()))
                .map(AllocationStatus.HoldStatus::hold)
                .map(h -> view(budgetId, window, h, null, null)).toList();
    }

    private static Reservation view(String budgetId, String window, Hold h, String note, Instant created) {
        return new Reservation(h.id(), budgetId, window, h.tokens().total(), created, h.until(), note, created);
    }

    private String parentOf(String budgetId) {
        return engine.config().budgets().get(budgetId).flatMap(Budget::parent).orElse(null);
    }

    /** The budget's calendar window (named, or its only one) and its parent's window of the same span. */
    private record Link(String window, String parent, String parentWindow) {
    }

    private Link link(String budgetId, String window) {
        BudgetTree tree = engine.config().budgets();
        Budget b = tree.get(budgetId).orElseThrow(() -> new IllegalArgumentException("unknown budget '" + budgetId
                + "'"));
        Budget parent = b.parent().flatMap(tree::get).orElseThrow(() -> new IllegalArgumentException("'" + budgetId
                + "' is a root: a reservation holds its parent's tokens for it"));
        List<WindowLimit> calendar = b.windows().stream().filter(w -> w.window().period().isCalendar()
                && (window == null || w.window().name().equals(window))).toList();
        if (calendar.size() != 1) {
            throw new IllegalArgumentException(window == null ? "'" + budgetId + "' has " + calendar.size()
                    + " calendar windows: name one" : "'" + budgetId + "' has no calendar window '" + window + "'");
        }
        WindowLimit w = calendar.get(0);
        WindowLimit pw = AllocationTree.matching(parent, w).orElseThrow(() -> new IllegalArgumentException("parent '"
                + parent.id() + "' has no window of the same period as '" + w.window().name() + "'"));
        return new Link(w.window().name(), parent.id(), pw.window().name());
    }
}
