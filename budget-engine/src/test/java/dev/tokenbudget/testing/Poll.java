package dev.tokenbudget.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Bounded polling for what a test waits on (a settlement after the last byte, a server's streams
 * ending, a request reaching a sink): the condition every 10 ms, a bounded number of times.
 */
public final class Poll {

    private static final long EVERY_MS = 10;

    private Poll() {
    }

    /**
     * Polls {@code condition} every 10 ms, for up to {@code limit} of sleeping; whether it held.
     * An interrupt fails the test (the interrupt flag is kept).
     */
    public static boolean until(Duration limit, BooleanSupplier condition) {
        return until(limit, Duration.ofMillis(EVERY_MS), condition);
    }

    /** As {@link #until(Duration, BooleanSupplier)}, polling every {@code every} (a condition that costs a call). */
    public static boolean until(Duration limit, Duration every, BooleanSupplier condition) {
        for (long i = limit.toMillis() / every.toMillis(); i > 0; i--) {
            if (condition.getAsBoolean()) {
                return true;
            }
            try {
                Thread.sleep(every.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while polling", e);
            }
        }
        return condition.getAsBoolean();
    }

    /** As {@link #until}, failing the test with {@code "timed out waiting for " + what} when it never held. */
    public static void await(String what, Duration limit, BooleanSupplier condition) {
        await(what, limit, Duration.ofMillis(EVERY_MS), condition);
    }

    /** As {@link #await(String, Duration, BooleanSupplier)}, polling every {@code every}. */
    public static void await(String what, Duration limit, Duration every, BooleanSupplier condition) {
        if (!until(limit, every, condition)) {
            throw new AssertionError("timed out waiting for " + what + " (" + limit.toSeconds() + " s)");
        }
    }
}
