package dev.tokenbudget.engine;

import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.event.EventBus;
import dev.tokenbudget.forecast.UsageHistory;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.ThresholdCrossing;
import dev.tokenbudget.telemetry.BudgetTelemetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What the store reports besides a decision (expired leases, threshold crossings, settled usage):
 * counted, recorded for forecasts, published as events.
 */
final class StoreOutcomes {

    private static final Logger LOG = LoggerFactory.getLogger(StoreOutcomes.class);

    private final BudgetTelemetry telemetry;
    private final UsageHistory history;
    private final EventBus events;

    StoreOutcomes(BudgetTelemetry telemetry, UsageHistory history, EventBus events) {
        this.telemetry = telemetry;
        this.history = history;
        this.events = events;
    }

    void expired(List<LeaseExpiry> expired, Instant now) {
        for (LeaseExpiry e : expired) {
            LOG.info("lease {} expired unsettled; charged at its reservation {}", e.leaseId(), e.charged());
            telemetry.charged(e.budgetIds(), e.charged().input(), e.charged().output());
            recordHistory(e.budgetIds(), now, e.charged().input(), e.charged().output());
            events.publish(() -> new BudgetEvent.LeaseExpired(now, e.budgetIds().get(0), e.leaseId(), e.charged(),
                    e.budgetIds()));
            crossings(e.crossings(), now);
        }
    }

    /** Settled usage into the history forecasts read; per-user budgets are not kept (unbounded). */
    void recordHistory(List<String> budgetIds, Instant at, long input, long output) {
        if (input == 0 && output == 0) {
            return;
        }
        try {
            history.record(withoutUsers(budgetIds), at, input, output);
        } catch (RuntimeException e) {
            LOG.warn("recording usage history failed: {}", e.toString());
        }
    }

    /** The ids without per-user budgets; the same list when it has none (the common case, once per settle). */
    private static List<String> withoutUsers(List<String> budgetIds) {
        // by index: an iterator of the ticket's unmodifiable list is two objects per settle
        for (int i = 0; i < budgetIds.size(); i++) {
            if (budgetIds.get(i).startsWith("user:")) {
                List<String> kept = new ArrayList<>(budgetIds.size());
                for (String id : budgetIds) {
                    if (!id.startsWith("user:")) {
                        kept.add(id);
                    }
                }
                return Collections.unmodifiableList(kept);
            }
        }
        return budgetIds;
    }

    void crossings(List<ThresholdCrossing> crossings, Instant now) {
        for (ThresholdCrossing c : crossings) {
            events.publish(() -> new BudgetEvent.ThresholdCrossed(now, c.budgetId(), c.windowKey(), c.percent(),
                    c.used(), c.limits()));
        }
    }
}
