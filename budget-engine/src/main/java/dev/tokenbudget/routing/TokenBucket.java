package dev.tokenbudget.routing;

/**
 * A per-minute bucket that refills continuously (capacity per 60 s), as providers meter RPM and
 * TPM. Not thread-safe: {@link UpstreamLimiter} guards it.
 */
final class TokenBucket {

    private static final double MINUTE_NANOS = 60e9;

    private double capacity;
    private double level;
    private long lastNanos;

    TokenBucket(long capacity, long nowNanos) {
        this.capacity = capacity;
        this.level = capacity;
        this.lastNanos = nowNanos;
    }

    void refill(long nowNanos) {
        if (nowNanos > lastNanos) {
            level = Math.min(capacity, level + (nowNanos - lastNanos) * capacity / MINUTE_NANOS);
            lastNanos = nowNanos;
        }
    }

    boolean fits(long amount) {
        return amount <= level;
    }

    boolean canEverFit(long amount) {
        return amount <= capacity;
    }

    void take(long amount) {
        level -= amount;
    }

    /** Gives back tokens taken for an estimate that turned out too high. */
    void refund(long amount) {
        level = Math.min(capacity, level + amount);
    }

    /** Nanoseconds until {@code amount} fits, 0 when it fits now. */
    long nanosUntil(long amount) {
        double missing = amount - level;
        return missing <= 0 ? 0 : (long) Math.ceil(missing * MINUTE_NANOS / capacity);
    }

    /** Adopts what the provider says: its limit, and never more left than it says is left. */
    void calibrate(long providerLimit, long providerRemaining) {
        if (providerLimit > 0) {
            capacity = providerLimit;
            level = Math.min(level, capacity);
        }
        if (providerRemaining >= 0) {
            level = Math.min(level, providerRemaining);
        }
    }

    long capacity() {
        return (long) capacity;
    }

    long level() {
        return (long) Math.floor(level);
    }
}
