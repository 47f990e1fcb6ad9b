package dev.tokenbudget.store.redis;

import java.util.function.BooleanSupplier;

/** Bounded polling for the tests that drive Redis processes: a number of tries, never a deadline asserted. */
final class Polls {

    private Polls() {
    }

    /** Polls {@code condition} up to {@code tries} times, {@code sleepMillis} apart; fails naming {@code what}. */
    static void await(String what, int tries, long sleepMillis, BooleanSupplier condition) {
        for (int i = 0; i < tries; i++) {
            if (condition.getAsBoolean()) {
                return;
            }
            try {
                Thread.sleep(sleepMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what, e);
            }
        }
        throw new AssertionError("gave up waiting for " + what + " after " + tries + " tries " + sleepMillis
                + " ms apart");
    }
}
