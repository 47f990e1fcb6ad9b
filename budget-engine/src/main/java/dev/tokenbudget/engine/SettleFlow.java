package dev.tokenbudget.engine;

import dev.tokenbudget.budget.FailMode;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.event.EventBus;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.telemetry.BudgetTelemetry;
import dev.tokenbudget.time.BudgetClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/** Settling and releasing a ticket, blocking or not; a store failure leaves the lease to expire at its reservation. */
final class SettleFlow {

    private static final Logger LOG = LoggerFactory.getLogger(BudgetEngine.class);

    private final BudgetStore store;
    private final BudgetClock clock;
    private final BudgetTelemetry telemetry;
    private final EventBus events;
    private final StoreOutcomes outcomes;

    SettleFlow(BudgetStore store, BudgetClock clock, BudgetTelemetry telemetry, EventBus events,
               StoreOutcomes outcomes) {
        this.store = store;
        this.clock = clock;
        this.telemetry = telemetry;
        this.events = events;
        this.outcomes = outcomes;
    }

    SettleResult.Status unknownSettled(Ticket t, SettleResult.Status s) {
        if (s == SettleResult.Status.SETTLED) {
            events.publish(() -> new BudgetEvent.UsageUnknown(clock.now(), t.budgetIds().get(0), t.keyName(),
                    t.reservedInput(), t.reservedOutput()));
        }
        return s;
    }

    SettleResult.Status finish(Ticket t, long input, long output, boolean release) {
        if (!t.accounted() || !t.close()) {
            return SettleResult.Status.UNKNOWN_LEASE;
        }
        Instant now = clock.now();
        long t0 = clock.nanoTime();
        SettleResult res;
        try {
            res = store.settle(new SettleCommand(t.treeId(), t.leaseId(), now, input, output, release));
        } catch (RuntimeException e) {
            return settleFailed(t, release, e, now);
        }
        return settled(t, input, output, release, res, now, t0);
    }

    CompletionStage<SettleResult.Status> finishAsync(Ticket t, long input, long output, boolean release) {
        if (!t.accounted() || !t.close()) {
            return CompletableFuture.completedFuture(SettleResult.Status.UNKNOWN_LEASE);
        }
        Instant now = clock.now();
        long t0 = clock.nanoTime();
        CompletionStage<SettleResult> call;
        try {
            call = store.settleAsync(new SettleCommand(t.treeId(), t.leaseId(), now, input, output, release));
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.handle((res, e) -> e != null ? settleFailed(t, release, e, now)
                : settled(t, input, output, release, res, now, t0));
    }

    private SettleResult.Status settleFailed(Ticket t, boolean release, Throwable error, Instant now) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof Error err) {
            throw err;
        }
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        LOG.warn("budget store failed to settle lease {}; it will be charged at its reservation when it expires"
                + ": {}", t.leaseId(), message);
        events.publish(() -> new BudgetEvent.StoreFailure(now, t.budgetIds().get(0), release ? "release"
                : "settle", message, FailMode.OPEN));
        return SettleResult.Status.UNKNOWN_LEASE;
    }

    private SettleResult.Status settled(Ticket t, long input, long output, boolean release, SettleResult res,
                                        Instant now, long t0) {
        telemetry.storeCall(release ? "release" : "settle", clock.nanoTime() - t0);
        if (res.status() == SettleResult.Status.SETTLED) {
            telemetry.charged(t.budgetIds(), input, output);
            outcomes.recordHistory(t.budgetIds(), now, input, output);
        }
        outcomes.crossings(res.crossings(), now);
        outcomes.expired(res.expired(), now);
        return res.status();
    }
}
