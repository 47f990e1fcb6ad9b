package dev.tokenbudget.reliability.soak;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Request latencies in a fixed histogram (1 ms buckets up to 10 s, then one overflow bucket):
 * constant memory however long the run, percentiles to the millisecond.
 */
final class Latencies {

    private static final int BUCKETS = 10_001;

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);

    void add(long nanos) {
        counts.incrementAndGet((int) Math.min(BUCKETS - 1, Math.max(0, nanos / 1_000_000)));
    }

    long count() {
        long n = 0;
        for (int i = 0; i < BUCKETS; i++) {
            n += counts.get(i);
        }
        return n;
    }

    /** The latency in milliseconds below which {@code p} percent of requests fell ("&gt;10000" past the histogram). */
    String percentile(double p) {
        long total = count();
        if (total == 0) {
            return "-";
        }
        long rank = (long) Math.ceil(total * p / 100.0);
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts.get(i);
            if (seen >= rank) {
                return i == BUCKETS - 1 ? ">10000" : Integer.toString(i + 1);
            }
        }
        return ">10000";
    }
}
