package dev.tokenbudget.reliability;

import dev.tokenbudget.fake.StreamPacer;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stream pacer for the fake provider that can hold every stream after its first chunks, so a
 * test knows requests are in flight mid-stream (reserved, partly answered) while it breaks
 * something; opened again, they run to their end. A held stream waits at most a minute, or the
 * time given.
 */
final class Gate implements StreamPacer {

    private final int holdFrom;
    private final Duration maxHold;
    private volatile CountDownLatch latch = new CountDownLatch(0);
    private final AtomicInteger waiting = new AtomicInteger();

    /** Holds streams before chunk {@code holdFrom} (0-based) while closed, each at most a minute. */
    Gate(int holdFrom) {
        this(holdFrom, Duration.ofMinutes(1));
    }

    Gate(int holdFrom, Duration maxHold) {
        this.holdFrom = holdFrom;
        this.maxHold = maxHold;
    }

    @Override
    public boolean beforeChunk(int index) throws InterruptedException {
        CountDownLatch l = latch;
        if (index >= holdFrom && l.getCount() > 0) {
            waiting.incrementAndGet();
            try {
                l.await(maxHold.toMillis(), TimeUnit.MILLISECONDS);
            } finally {
                waiting.decrementAndGet();
            }
        }
        return true;
    }

    void close() {
        latch = new CountDownLatch(1);
    }

    void open() {
        latch.countDown();
    }

    /** Streams held right now. */
    int waiting() {
        return waiting.get();
    }
}
