package dev.tokenbudget.time;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves only when told to: for tests and for replaying traces on simulated time.
 * Thread-safe; wall and monotonic time advance together.
 */
public final class ManualClock implements BudgetClock {

    private final AtomicLong epochNanos;
    private final AtomicLong monotonic = new AtomicLong();

    public ManualClock(Instant start) {
        this.epochNanos = new AtomicLong(start.getEpochSecond() * 1_000_000_000L + start.getNano());
    }

    @Override
    public Instant now() {
        long n = epochNanos.get();
        return Instant.ofEpochSecond(Math.floorDiv(n, 1_000_000_000L), Math.floorMod(n, 1_000_000_000L));
    }

    @Override
    public long nanoTime() {
        return monotonic.get();
    }

    /** Moves both clocks forward; a negative duration is refused, as time never runs back here. */
    public void advance(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("cannot advance a clock by a negative duration: " + d);
        }
        long nanos = d.toNanos();
        epochNanos.addAndGet(nanos);
        monotonic.addAndGet(nanos);
    }

    /** Sets the wall time (forward only) and advances monotonic time by the same amount. */
    public void setTo(Instant t) {
        advance(Duration.between(now(), t));
    }
}
