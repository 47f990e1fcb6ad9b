package dev.tokenbudget.gateway;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * One daemon thread for the gateway layer's timers, shared by all gateways and adapters: it wakes
 * requests waiting for an upstream quota to refill, and runs adapters' per-request deadlines (the
 * ext_proc adapter's request for more time when an admission is late). Tasks must be short.
 */
public final class GatewayTimer {

    private GatewayTimer() {
    }

    private static final class Holder {
        static final ScheduledExecutorService TIMER = create();

        private static ScheduledExecutorService create() {
            ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
                Thread th = new Thread(r, "tokenbudget-timer");
                th.setDaemon(true);
                return th;
            });
            t.setRemoveOnCancelPolicy(true);
            return t;
        }
    }

    /** The shared timer; a cancelled task leaves its queue at once. */
    public static ScheduledExecutorService shared() {
        return Holder.TIMER;
    }
}
