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
 */
public record BlockSettings(boolean enabled, int maxRequests, double headroomShare, Duration flushInterval) {

    /** Blocks off: every decision is one script call. */
    public static final BlockSettings DISABLED = new BlockSettings(false, 64, 0.1, Duration.ofSeconds(1));

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
    }

    /** Blocks on, with these limits. */
    public static BlockSettings of(int maxRequests, double headroomShare, Duration flushInterval) {
        return new BlockSettings(true, maxRequests, headroomShare, flushInterval);
    }
}
