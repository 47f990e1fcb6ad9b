package dev.tokenbudget.engine;

import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.time.BudgetClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Settles and releases the store did not acknowledge (it timed out, its connection dropped, it
 * was down), sent again until it does or until their lease has expired. Without this, a settle
 * lost to one slow moment left its lease to be charged at the reservation when it expired: the
 * provider's actual usage was lost and the estimate counted instead.
 *
 * <p>Sending a settle again is safe: the store applies a lease exactly once (settle, release or
 * expiry), so a retry of a settle that did reach the store, or of one whose lease has expired
 * meanwhile, finds no lease and changes nothing. One thread works through the queue in order;
 * while the store keeps failing it probes with the oldest entry only, backing off from 50 ms to
 * 5 s, and drains the rest once the store answers. The queue is bounded: a settle dropped past
 * {@link #MAX_PENDING} leaves its lease to expiry, as before, with a warning. Entries whose lease
 * has expired are dropped without a call. The thread starts with the first failure.
 */
final class SettleRetries implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SettleRetries.class);
    /** Failed settles and releases kept for retry at most; past it, a lease is left to expire. */
    static final int MAX_PENDING = 10_000;
    static final long FIRST_DELAY_MS = 50;
    static final long MAX_DELAY_MS = 5_000;

    /** A settle or release to send again; the ticket is null for a release of a refused reservation. */
    record Retry(Ticket ticket, SettleCommand command, Instant leaseExpiresAt) {
    }

    private final BudgetStore store;
    private final BudgetClock clock;
    /** Called on the retry thread with each command the store took. */
    private final BiConsumer<Retry, SettleResult> applied;
    private final ArrayDeque<Retry> queue = new ArrayDeque<>();
    private ScheduledExecutorService thread;
    private boolean scheduled;
    private boolean closed;
    private long delayMs = FIRST_DELAY_MS;
    private long dropped;

    SettleRetries(BudgetStore store, BudgetClock clock, BiConsumer<Retry, SettleResult> applied) {
        this.store = store;
        this.clock = clock;
        this.applied = applied;
    }

    /** Queues a command the store did not acknowledge; false when the queue is full or closed. */
    synchronized boolean submit(Retry r) {
        if (closed || queue.size() >= MAX_PENDING) {
            if (dropped++ % 1_000 == 0) { // one line per thousand: an outage must not flood the log
                LOG.warn("{} settles waiting for the budget store already; lease {} and the ones dropped after it "
                        + "are charged at their reservation if the store holds them ({} dropped so far)", queue.size(),
                        r.command().leaseId(), dropped);
            }
            return false;
        }
        queue.addLast(r);
        if (!scheduled) {
            schedule(FIRST_DELAY_MS);
        }
        return true;
    }

    /** Commands waiting for the store. */
    synchronized int pending() {
        return queue.size();
    }

    private void schedule(long ms) {
        if (thread == null) {
            thread = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "tokenbudget-settle-retry");
                t.setDaemon(true);
                return t;
            });
        }
        scheduled = true;
        thread.schedule(this::drain, ms, TimeUnit.MILLISECONDS);
    }

    private void drain() {
        while (true) {
            Retry r;
            synchronized (this) {
                r = queue.peekFirst();
                if (r == null || closed) {
                    scheduled = false;
                    return;
                }
            }
            if (r.leaseExpiresAt() != null && clock.now().isAfter(r.leaseExpiresAt())) {
                // the store charges (or charged) it at its reservation; sending it now would find nothing
                LOG.warn("lease {} expired before the budget store took its {}; it is charged at its reservation",
                        r.command().leaseId(), r.command().release() ? "release" : "settle");
                removeHead(r);
                continue;
            }
            SettleResult res;
            try {
                res = store.settle(r.command());
            } catch (RuntimeException e) {
                synchronized (this) {
                    delayMs = Math.min(MAX_DELAY_MS, delayMs * 2);
                    if (!closed) {
                        schedule(delayMs);
                    }
                }
                return;
            }
            removeHead(r);
            synchronized (this) {
                delayMs = FIRST_DELAY_MS;
            }
            LOG.info("budget store took the {} of lease {} on retry: {}", r.command().release() ? "release" : "settle",
                    r.command().leaseId(), res.status());
            try {
                applied.accept(r, res);
            } catch (RuntimeException e) {
                LOG.warn("after the retried settle of lease {}: {}", r.command().leaseId(), e.toString());
            }
        }
    }

    private synchronized void removeHead(Retry r) {
        if (queue.peekFirst() == r) {
            queue.pollFirst();
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (!queue.isEmpty()) {
            LOG.warn("closing with {} settles the budget store has not taken; their leases are charged at their "
                    + "reservation when they expire", queue.size());
        }
        queue.clear();
        if (thread != null) {
            thread.shutdownNow();
        }
    }
}
