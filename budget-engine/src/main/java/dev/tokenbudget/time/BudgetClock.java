package dev.tokenbudget.time;

import java.time.Instant;

/**
 * The engine's source of time, with wall time and monotonic time kept apart.
 *
 * <p>Wall time places usage in calendar windows and computes resets; monotonic time measures
 * durations (store latency, timeouts) and never jumps. Tests and the simulator inject a
 * {@link ManualClock} so that a whole month can be replayed in seconds.
 */
public interface BudgetClock {

    /** Current wall-clock instant. */
    Instant now();

    /** Monotonic nanoseconds, only meaningful as a difference between two readings. */
    long nanoTime();

    /** The system clock: {@link Instant#now()} and {@link System#nanoTime()}. */
    static BudgetClock system() {
        return SystemClock.INSTANCE;
    }

    /** The system clock as a plain class; an enum singleton keeps it allocation-free. */
    enum SystemClock implements BudgetClock {
        INSTANCE;

        @Override
        public Instant now() {
            return Instant.now();
        }

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }
    }
}
