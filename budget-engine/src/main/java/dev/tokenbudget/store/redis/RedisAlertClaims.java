package dev.tokenbudget.store.redis;

import dev.tokenbudget.alert.AlertClaims;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.store.StoreUnavailableException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Alert claims in Redis, shared by every gateway instance on it: {@code SET key 1 NX PX ttl}
 * (run as a one-line script, loaded once and called by its SHA), so the first instance to claim a
 * key wins until the TTL ends, measured by Redis's own clock. Keys live under the store's prefix
 * ({@code <prefix>:alert:<key>}); each is a single key, so Redis Cluster places it freely.
 * Thread-safe; a failure surfaces as {@link StoreUnavailableException}.
 */
public final class RedisAlertClaims implements AlertClaims, AutoCloseable {

    static final String SCRIPT = "if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end "
            + "return 0";

    private final RedisConnector connector;
    private final String prefix;
    private volatile String sha;

    private RedisAlertClaims(RedisConnector connector, String prefix) {
        this.connector = connector;
        this.prefix = prefix;
        connector.onConnect(link -> sha = link.scripting().scriptLoad(SCRIPT));
    }

    /** Claims on the Redis of {@code settings} (the store's own settings: same Redis, same prefix). */
    public static RedisAlertClaims open(StoreSettings settings) {
        Objects.requireNonNull(settings, "settings");
        RedisAlertClaims claims = new RedisAlertClaims(RedisConnector.of(settings), settings.keyPrefix());
        claims.connector.tryConnect();
        return claims;
    }

    @Override
    public boolean claim(String key, Instant now, Instant expiresAt) {
        long ttl = Math.max(1, Duration.between(now, expiresAt).toMillis());
        String[] keys = {prefix + ":alert:" + key};
        String ms = Long.toString(ttl);
        try {
            RedisConnector.Link link = connector.link();
            Long won;
            try {
                won = link.scripting().evalsha(sha, ScriptOutputType.INTEGER, keys, ms);
            } catch (RedisNoScriptException e) {
                // Redis restarted or failed over since the script was loaded
                sha = link.scripting().scriptLoad(SCRIPT);
                won = link.scripting().evalsha(sha, ScriptOutputType.INTEGER, keys, ms);
            }
            return won != null && won == 1L;
        } catch (RedisException e) {
            throw new StoreUnavailableException("alert claim on " + connector.description() + " failed: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        connector.close();
    }

    @Override
    public String toString() {
        return "RedisAlertClaims[" + connector.description() + "]";
    }
}
