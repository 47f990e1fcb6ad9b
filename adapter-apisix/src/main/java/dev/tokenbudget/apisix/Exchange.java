package dev.tokenbudget.apisix;

import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.gateway.ResponseMeter;

/**
 * A request admitted in the pre-request phase, waiting for its response to be metered.
 *
 * @param engine the engine that holds the reservation
 * @param ticket the reservation
 * @param meter  reads the response's usage and settles the ticket
 */
record Exchange(BudgetEngine engine, Ticket ticket, ResponseMeter meter) {

    /** The logged response never came to the runner: charge the reservation, as an expired lease would be. */
    void settleByEstimate() {
        engine.settleUnknown(ticket);
    }
}
