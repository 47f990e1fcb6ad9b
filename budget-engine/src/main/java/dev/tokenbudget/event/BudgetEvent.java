package dev.tokenbudget.event;

import dev.tokenbudget.budget.FailMode;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.List;

/**
 * Something a budget went through. Events are published synchronously to subscribers on the
 * thread that caused them, and only built when someone listens; a subscriber that does slow work
 * (alert delivery) hands the event to its own queue.
 */
public sealed interface BudgetEvent {

    /** The kinds of event, for filtering and metrics. */
    enum Type {
        THRESHOLD_CROSSED,
        REQUEST_DEGRADED,
        REQUEST_REJECTED,
        LEASE_EXPIRED,
        STORE_FAILURE,
        USAGE_UNKNOWN,
        LIMITS_CHANGED,
        ALLOCATION_CHANGED
    }

    Type type();

    Instant at();

    /** The budget the event is about (for a lease, the first budget of its path). */
    String budgetId();

    /** A threshold reached for the first time in a window. */
    record ThresholdCrossed(Instant at, String budgetId, String windowKey, int percent, TokenCounts used,
                            Limits limits) implements BudgetEvent {
        @Override
        public Type type() {
            return Type.THRESHOLD_CROSSED;
        }
    }

    /** A request admitted on a degraded route. */
    record RequestDegraded(Instant at, String budgetId, String keyName, String fromModel, String toModel,
                           String route) implements BudgetEvent {
        @Override
        public Type type() {
            return Type.REQUEST_DEGRADED;
        }
    }

    /** A request refused. */
    record RequestRejected(Instant at, String budgetId, String keyName, Decision.Reason reason,
                           long retryAfterSeconds) implements BudgetEvent {
        @Override
        public Type type() {
            return Type.REQUEST_REJECTED;
        }
    }

    /** A reservation never settled, charged at its reserved amount. */
    record LeaseExpired(Instant at, String budgetId, String leaseId, TokenCounts charged, List<String> budgetIds)
            implements BudgetEvent {
        @Override
        public Type type() {
            return Type.LEASE_EXPIRED;
        }
    }

    /** The store failed; {@code applied} says whether the request was admitted uncounted or refused. */
    record StoreFailure(Instant at, String budgetId, String operation, String message, FailMode applied)
            implements BudgetEvent {
        @Override
        public Type type() {
            return Type.STORE_FAILURE;
        }
    }

    /** A response carried no usage; the reservation was settled at its estimate. */
    record UsageUnknown(Instant at, String budgetId, String keyName, long estimatedInput, long estimatedOutput)
            implements BudgetEvent {
        @Override
        public Type type() {
            return Type.USAGE_UNKNOWN;
        }
    }

    /** Limits of a budget window changed at run time. */
    record LimitsChanged(Instant at, String budgetId, String window, Limits before, Limits after)
            implements BudgetEvent {
        @Override
        public Type type() {
            return Type.LIMITS_CHANGED;
        }
    }

    /**
     * Tokens moved between allocations: a rebalance contribution to a pool, or a hold made or
     * cancelled; {@code entry} is its ledger entry, whose budget this event is about.
     */
    record AllocationChanged(Instant at, String budgetId, LedgerEntry entry) implements BudgetEvent {
        @Override
        public Type type() {
            return Type.ALLOCATION_CHANGED;
        }
    }
}
