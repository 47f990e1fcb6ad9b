package dev.tokenbudget.window;

import java.time.Instant;

/**
 * One concrete window of a {@link WindowSpec} at an instant: what the store keys usage by.
 *
 * <p>For a calendar window the key names the instance ({@code month:2026-11}), so a reset is
 * simply a new key; {@code bucket} is 0 and {@code bucketCount} is 1. For a rolling window the
 * key is stable ({@code rolling-7d}) and usage lives in {@code bucketCount} buckets of
 * {@code bucketMillis}; {@code bucket} is the index of the current one, and the window's usage
 * is the sum of buckets {@code bucket - bucketCount + 1 .. bucket}.
 *
 * @param key          store key of the window, unique within a budget
 * @param bucket       current bucket index (0 for calendar windows)
 * @param bucketCount  number of buckets summed (1 for calendar windows)
 * @param bucketMillis width of one bucket in milliseconds (the window length for calendar ones)
 * @param start        start of the window (for rolling: of the oldest bucket counted)
 * @param end          when this window resets (for rolling: end of the current bucket)
 * @param expiresAt    when the store may forget the window's state (its end plus retention)
 */
public record WindowRef(String key, long bucket, int bucketCount, long bucketMillis, Instant start, Instant end,
                        Instant expiresAt) {

    /** Whether {@code t} still falls in this window (and, for a rolling one, in its current bucket). */
    public boolean covers(Instant t) {
        return !t.isBefore(isRolling() ? Instant.ofEpochMilli(bucket * bucketMillis) : start) && t.isBefore(end);
    }

    public boolean isRolling() {
        return bucketCount > 1;
    }

    /** The instant at which bucket {@code b} stops counting towards this rolling window. */
    public Instant rollOffTime(long b) {
        return Instant.ofEpochMilli((b + bucketCount) * bucketMillis);
    }
}
