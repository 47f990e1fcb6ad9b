package dev.tokenbudget.alert;

import java.time.Instant;

/**
 * Once-only claims shared by every instance: the first caller to claim a key gets true until the
 * claim expires, every other caller false. Alerts use it so that a projected overrun, a window's
 * resolution and the like are announced once per budget, window and threshold, however many
 * gateway instances evaluate them.
 *
 * <p>{@link InMemoryAlertClaims} serves one process (and engines sharing it);
 * {@code store.redis.RedisAlertClaims} ({@code SET key 1 NX PX ttl}) every instance on one Redis.
 * Implementations may throw on a store failure; callers then skip the alert and try again at the
 * next evaluation.
 */
public interface AlertClaims {

    /**
     * Claims {@code key} until {@code expiresAt}.
     *
     * @param now the caller's current time (an implementation with its own clock may ignore it)
     * @return true for the first claim of a key not yet expired, false otherwise
     */
    boolean claim(String key, Instant now, Instant expiresAt);
}
