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

/**
 * Settling and releasing a ticket, blocking or not. A settle or release the store did not
 * acknowledge is sent again by {@link SettleRetries} until the store takes it or the lease expires.
 */
final class SettleFlow implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BudgetEngine.class);

    private final BudgetStore store;
    private final BudgetClock clock;
    private final BudgetTelemetry telemetry;
    private final EventBus events;
    private final StoreOutcomes outcomes;
    private final SettleRetries retries;

    SettleFlow(BudgetStore store, BudgetClock clock, BudgetTelemetry telemetry, EventBus events,
               StoreOutcomes outcomes) {
        this.store = store;
        this.clock = clock;
        this.telemetry = telemetry;
        this.events = events;
        this.outcomes = outcomes;
        this.retries = new SettleRetries(store, clock, (retry, res) -> retried(retry.ticket(), retry.command(), res));
    }

    SettleResult.Status unknownSettled(Ticket t, SettleResult.Status s) {
        if (s == SettleResult.Status.SETTLED) {
            events.publish(() -> new BudgetEvent.UsageUnknown(clock.now(), t.budgetIds().get(0), t.keyName(),
                    t.reservedInput(), t.reservedOutput()));
        }
        return s;
    }

    SettleResult.Status finish(Ticket t, long input, long output, boolean release) {
        if (!t.holdsLease() || !t.close()) {
            return SettleResult.Status.UNKNOWN_LEASE;
        }
        Instant now = clock.now();
        long t0 = clock.nanoTime();
        SettleCommand command = new SettleCommand(t.treeId(), t.leaseId(), now, input, output, release);
        SettleResult res;
        try {
            res = store.settle(command);
        } catch (RuntimeException e) {
            return settleFailed(t, command, e);
        }
        return settled(t, input, output, release, res, now, t0);
    }

    CompletionStage<SettleResult.Status> finishAsync(Ticket t, long input, long output, boolean release) {
        if (!t.holdsLease() || !t.close()) {
            return CompletableFuture.completedFuture(SettleResult.Status.UNKNOWN_LEASE);
        }
        Instant now = clock.now();
        long t0 = clock.nanoTime();
        SettleCommand command = new SettleCommand(t.treeId(), t.leaseId(), now, input, output, release);
        CompletionStage<SettleResult> call;
        try {
            call = store.settleAsync(command);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.handle((res, e) -> e != null ? settleFailed(t, command, e)
                : settled(t, input, output, release, res, now, t0));
    }

    /**
     * Releases in the background a lease the store may hold although its reserve failed (it ran
     * the call late, or its reply was lost), for a request that was refused.
     */
    void releaseLater(String treeId, String leaseId, Instant now, Instant leaseExpiresAt) {
        retries.submit(new SettleRetries.Retry(null, new SettleCommand(treeId, leaseId, now, 0, 0, true),
                leaseExpiresAt));
    }

    int pending() {
        return retries.pending();
    }

    @Override
    public void close() {
        retries.close();
    }

    private SettleResult.Status settleFailed(Ticket t, SettleCommand command, Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof Error err) {
            throw err;
        }
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        boolean queued = retries.submit(new SettleRetries.Retry(t, command, t.leaseExpiresAt()));
        LOG.warn("budget store failed to {} lease {}; {}: {}", command.release() ? "release" : "settle", t.leaseId(),
                queued ? "sending it again until the store takes it or the lease expires"
                        : "it will be charged at its reservation when it expires", message);
        events.publish(() -> new BudgetEvent.StoreFailure(command.now(), t.budgetIds().get(0), command.release()
                ? "release" : "settle", message, FailMode.OPEN));
        return queued ? SettleResult.Status.PENDING : SettleResult.Status.UNKNOWN_LEASE;
    }

    /** A settle or release the store took on a retry (no ticket: the release of a refused reservation). */
    private void retried(Ticket t, SettleCommand c, SettleResult res) {
        if (t != null && res.status() == SettleResult.Status.SETTLED) {
            telemetry.charged(t.budgetIds(), c.input(), c.output());
            outcomes.recordHistory(t.budgetIds(), c.now(), c.input(), c.output());
        }
        outcomes.crossings(res.crossings(), c.now());
        outcomes.expired(res.expired(), c.now());
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
