package dev.tokenbudget.config;

import java.time.Duration;

/**
 * Token blocks on the Redis store ({@code store.redis.blocks}, docs/redis.md "Token blocks"): the
 * engine reserves a block of tokens on a request's path in one script call and decides the
 * requests that fit in it in memory, away from every threshold, degrade line and cap.
 *
 * @param enabled        whether the store uses blocks (off by default: one script per decision)
 * @param maxRequests    a block holds at most this many requests of the size that asked for it
 * @param headroomShare  a block takes at most this share of the path's smallest headroom (room
 *                       below its next threshold or cap), so instances sharing the path all get some
 * @param flushInterval  a block stops taking requests this long after it was reserved and is
 *                       settled to Redis once its requests are settled, so status and alerts lag
 *                       by at most about this much
 * @param renewBelow     the low-water mark: once less than this share of a block is left (input,
 *                       output or its flush interval), the next block is reserved in the background while requests
 *                       keep being decided from this one; 0 reserves it only when the block is used up
 */
public record BlockSettings(boolean enabled, int maxRequests, double headroomShare, Duration flushInterval,
                            double renewBelow) {

    /** The low-water mark when none is configured: a quarter of the block. */
    public static final double RENEW_BELOW = 0.25;

    /** Blocks off: every decision is one script call. */
    public static final BlockSettings DISABLED = new BlockSettings(false, 64, 0.1, Duration.ofSeconds(1), RENEW_BELOW);

    public BlockSettings {
        if (maxRequests < 2) {
            throw new IllegalArgumentException("store.redis.blocks.max_requests: must be >= 2, was " + maxRequests);
        }
        if (!(headroomShare > 0 && headroomShare <= 1)) {
            throw new IllegalArgumentException("store.redis.blocks.headroom_share: must be in (0, 1], was "
                    + headroomShare);
        }
        if (flushInterval.isNegative() || flushInterval.isZero()) {
            throw new IllegalArgumentException("store.redis.blocks.flush_interval: must be > 0, was " + flushInterval);
        }
        if (!(renewBelow >= 0 && renewBelow < 1)) {
            throw new IllegalArgumentException("store.redis.blocks.renew_below: must be in [0, 1), was " + renewBelow);
        }
    }

    /** Blocks on, with these limits, the next block reserved at the default low-water mark. */
    public static BlockSettings of(int maxRequests, double headroomShare, Duration flushInterval) {
        return new BlockSettings(true, maxRequests, headroomShare, flushInterval, RENEW_BELOW);
    }

    /** The same settings with {@code share} as the low-water mark ({@link #renewBelow}). */
    public BlockSettings withRenewBelow(double share) {
        return new BlockSettings(enabled, maxRequests, headroomShare, flushInterval, share);
    }
}
