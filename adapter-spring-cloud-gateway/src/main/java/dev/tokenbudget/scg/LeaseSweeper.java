package dev.tokenbudget.scg;

import dev.tokenbudget.engine.BudgetEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Charges reservations whose lease expired unsettled (a gateway that died mid-request, a settle
 * that failed), on a timer of its own: requests find expired leases in passing, but a quiet
 * budget would otherwise keep them reserved.
 */
final class LeaseSweeper implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(LeaseSweeper.class);

    private final BudgetEngine engine;
    private final Duration interval;
    private ScheduledExecutorService timer;

    LeaseSweeper(BudgetEngine engine, Duration interval) {
        if (interval == null || interval.isZero() || interval.isNegative()) {
            throw new IllegalArgumentException("tokenbudget.lease-sweep-interval must be > 0, was " + interval);
        }
        this.engine = engine;
        this.interval = interval;
    }

    @Override
    public synchronized void start() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tokenbudget-lease-sweeper");
            t.setDaemon(true);
            return t;
        });
        long ms = interval.toMillis();
        timer.scheduleWithFixedDelay(this::sweep, ms, ms, TimeUnit.MILLISECONDS);
    }

    private void sweep() {
        try {
            int n = engine.expireLeases();
            if (n > 0) {
                LOG.info("charged {} expired reservation(s) at their reserved amounts", n);
            }
        } catch (RuntimeException e) {
            LOG.warn("sweeping expired leases failed; will retry in {}", interval, e);
        }
    }

    @Override
    public synchronized void stop() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return timer != null;
    }
}
