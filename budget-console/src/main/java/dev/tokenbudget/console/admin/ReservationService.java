package dev.tokenbudget.console.admin;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Reservations: tokens held back for a budget over a period (e.g. 60M tokens of the month for its
 * last week), which siblings drawing on a shared pool cannot take. The allocation engine
 * implements this; the admin API only exposes it, and answers 501 on a host that has none.
 * Implementations are thread-safe; the admin API records creations and cancellations in the ledger.
 */
public interface ReservationService {

    /**
     * A reservation to make.
     *
     * @param window window name of the budget ({@code month}); the tokens count against its limit
     * @param tokens tokens held
     * @param from   start of the hold, or null for now
     * @param until  end of the hold, or null for the end of the window
     * @param note   why, for the ledger, or null
     */
    record Request(String window, long tokens, Instant from, Instant until, String note) {
    }

    /** A reservation made. */
    record Reservation(String id, String budgetId, String window, long tokens, Instant from, Instant until,
                       String note, Instant createdAt) {
    }

    /**
     * Makes a reservation.
     *
     * @throws IllegalArgumentException when it cannot be made (unknown window, not enough room,
     *                                  period outside the window), with the reason as message
     */
    Reservation create(String budgetId, Request request);

    /** Cancels a reservation; empty when the budget has none with that id. */
    Optional<Reservation> cancel(String budgetId, String reservationId);

    /** The budget's reservations in force or to come. */
    List<Reservation> list(String budgetId);
}
