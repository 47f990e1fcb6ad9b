package dev.tokenbudget.gateway;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/** One daemon thread that wakes requests waiting for an upstream quota to refill, shared by all gateways. */
final class UpstreamTimer {

    private UpstreamTimer() {
    }

    private static final class Holder {
        static final ScheduledExecutorService TIMER = create();

        private static ScheduledExecutorService create() {
            ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
                Thread th = new Thread(r, "tokenbudget-upstream-timer");
                th.setDaemon(true);
                return th;
            });
            t.setRemoveOnCancelPolicy(true);
            return t;
        }
    }

    static ScheduledExecutorService shared() {
        return Holder.TIMER;
    }
}
