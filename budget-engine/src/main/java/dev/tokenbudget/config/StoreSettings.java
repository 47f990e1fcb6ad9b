package dev.tokenbudget.config;

import java.time.Duration;

/**
 * Which store the engine runs on and how to reach it.
 *
 * @param type      {@code memory} (default) or {@code redis}
 * @param redisUri  Lettuce URI ({@code redis://}, {@code rediss://}, {@code redis-sentinel://}); for a
 *                  Cluster, comma-separated seed URIs with {@code cluster: true}
 * @param cluster   whether the Redis URI names a Cluster
 * @param timeout   how long a store call may take before the budget's fail mode applies
 * @param keyPrefix prefix of every Redis key
 * @param tls       certificates for a {@code rediss://} URI (never null: {@link TlsSettings#DEFAULT})
 * @param blocks    token blocks on Redis (never null: {@link BlockSettings#DISABLED})
 */
public record StoreSettings(String type, String redisUri, boolean cluster, Duration timeout, String keyPrefix,
                            TlsSettings tls, BlockSettings blocks) {

    public static final StoreSettings MEMORY = new StoreSettings("memory", null, false, Duration.ofMillis(100), "tb");

    public StoreSettings {
        tls = tls == null ? TlsSettings.DEFAULT : tls;
        blocks = blocks == null ? BlockSettings.DISABLED : blocks;
    }

    /** Settings without token blocks. */
    public StoreSettings(String type, String redisUri, boolean cluster, Duration timeout, String keyPrefix,
                         TlsSettings tls) {
        this(type, redisUri, cluster, timeout, keyPrefix, tls, BlockSettings.DISABLED);
    }

    /** The same settings with {@code b} as token blocks. */
    public StoreSettings withBlocks(BlockSettings b) {
        return new StoreSettings(type, redisUri, cluster, timeout, keyPrefix, tls, b);
    }

    /** Settings with the JVM's TLS defaults (the JVM trust store, no client certificate). */
    public StoreSettings(String type, String redisUri, boolean cluster, Duration timeout, String keyPrefix) {
        this(type, redisUri, cluster, timeout, keyPrefix, TlsSettings.DEFAULT);
    }

    public boolean isRedis() {
        return "redis".equals(type);
    }
}
