package dev.tokenbudget.store;

import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.forecast.InMemoryUsageHistory;
import dev.tokenbudget.forecast.UsageHistory;
import dev.tokenbudget.store.block.BlockStore;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import dev.tokenbudget.store.redis.RedisUsageHistory;

/** Opens the store a configuration names ({@code store.type} in the engine YAML). */
public final class BudgetStores {

    private BudgetStores() {
    }

    /**
     * The embedded store for {@code memory}; for {@code redis}, a {@link RedisBudgetStore} on
     * {@code store.redis.uri}: standalone ({@code redis://}, TLS with {@code rediss://}, AUTH as
     * {@code redis://user:password@host}), Sentinel ({@code redis-sentinel://host:26379#master}) or,
     * with {@code cluster: true}, a Cluster (comma-separated seed URIs). Calls time out after
     * {@code store.redis.timeout}; with {@code store.redis.blocks} on, that store in token blocks
     * ({@link BlockStore}); see docs/redis.md.
     *
     * @throws IllegalArgumentException for an unknown type or a URI that cannot be parsed
     */
    public static BudgetStore open(StoreSettings settings) {
        if (settings == null || "memory".equals(settings.type())) {
            return new InMemoryBudgetStore();
        }
        if (settings.isRedis()) {
            RedisBudgetStore redis = RedisBudgetStore.open(settings);
            return settings.blocks().enabled() ? new BlockStore(redis, settings.blocks()) : redis;
        }
        throw new IllegalArgumentException("store.type: must be 'memory' or 'redis', was '" + settings.type() + "'");
    }

    /**
     * The usage history next to the store {@code settings} names: in process for {@code memory},
     * in Redis (shared by every instance) for {@code redis}.
     */
    public static UsageHistory history(StoreSettings settings) {
        if (settings != null && settings.isRedis()) {
            return RedisUsageHistory.open(settings);
        }
        return new InMemoryUsageHistory();
    }
}
