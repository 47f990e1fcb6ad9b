package dev.tokenbudget.store.redis;

import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.store.StoreUnavailableException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.api.async.RedisSetAsyncCommands;
import io.lettuce.core.api.sync.RedisScriptingCommands;
import io.lettuce.core.api.sync.RedisSetCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One Lettuce connection (standalone, Sentinel or Cluster) set up so that fail modes apply
 * promptly: commands time out after the configured timeout, a disconnected connection rejects
 * commands instead of queueing them (in-flight commands are cancelled, never replayed, so a
 * script runs at most once), reconnects back off only up to a second, and a Redis that is down
 * when the store opens is connected to lazily, one attempt at a time.
 */
final class RedisConnector implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisConnector.class);
    private static final long RETRY_CONNECT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    /** The commands the store uses, common to a standalone and a cluster connection. */
    record Link(RedisScriptingCommands<String, String> scripting, RedisSetCommands<String, String> sets,
                RedisScriptingAsyncCommands<String, String> scriptingAsync,
                RedisSetAsyncCommands<String, String> setsAsync, AutoCloseable connection) {
    }

    private final String description;
    private final ClientResources resources;
    private final AutoCloseable client;
    private final Supplier<Link> connect;
    private final ReentrantLock connecting = new ReentrantLock();
    private volatile Consumer<Link> onConnect = l -> { };
    private volatile Link link;
    private volatile long lastAttempt;
    private volatile boolean attempted;
    /** Why the last connection attempt failed, repeated while calls fail fast until the next one. */
    private volatile String lastFailure = "";

    private RedisConnector(String description, ClientResources resources, AutoCloseable client,
                           Supplier<Link> connect) {
        this.description = description;
        this.resources = resources;
        this.client = client;
        this.connect = connect;
    }

    /** A connector for {@code settings} (not yet connected). Throws IllegalArgumentException for a bad URI. */
    static RedisConnector of(StoreSettings settings) {
        Duration timeout = settings.timeout();
        Duration connectTimeout = timeout.compareTo(Duration.ofSeconds(1)) > 0 ? timeout : Duration.ofSeconds(1);
        SocketOptions socket = SocketOptions.builder()
                .connectTimeout(connectTimeout)
                .keepAlive(true)
                .build();
        // used by rediss:// URIs only; checks the configured certificate files now
        SslOptions ssl = RedisTls.options(settings.tls(), connectTimeout);
        List<RedisURI> uris = uris(settings.redisUri(), timeout);
        if (!settings.cluster() && uris.size() != 1) {
            throw new IllegalArgumentException("store.redis.uri: several URIs need cluster: true (a Sentinel "
                    + "URI lists its sentinels in one redis-sentinel:// URI)");
        }
        String description = (settings.cluster() ? "Redis Cluster " : "Redis ") + redacted(uris);
        // after every check that can throw: these own threads
        ClientResources resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2,
                        TimeUnit.MILLISECONDS))
                .build();
        if (settings.cluster()) {
            RedisClusterClient c = RedisClusterClient.create(resources, uris);
            c.setDefaultTimeout(timeout);
            c.setOptions(ClusterClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .socketOptions(socket)
                    .sslOptions(ssl)
                    .timeoutOptions(TimeoutOptions.enabled(timeout))
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enablePeriodicRefresh(Duration.ofSeconds(30))
                            .enableAllAdaptiveRefreshTriggers()
                            // Lettuce's default (30 s) lets one refresh in 30 s: a refresh made while a
                            // dead master's replica is not elected yet kept the slot on the dead node
                            // for 30 s more (RedisClusterFailoverTest); once a second costs little
                            .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(1))
                            .build())
                    .build());
            return new RedisConnector(description, resources, c::shutdown, () -> {
                StatefulRedisClusterConnection<String, String> conn = c.connect(StringCodec.UTF8);
                conn.setTimeout(timeout);
                return new Link(conn.sync(), conn.sync(), conn.async(), conn.async(), conn);
            });
        }
        RedisClient c = RedisClient.create(resources, uris.get(0));
        c.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(socket)
                .sslOptions(ssl)
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .build());
        return new RedisConnector(description, resources, c::shutdown, () -> {
            StatefulRedisConnection<String, String> conn = c.connect(StringCodec.UTF8);
            conn.setTimeout(timeout);
            return new Link(conn.sync(), conn.sync(), conn.async(), conn.async(), conn);
        });
    }

    private static List<RedisURI> uris(String text, Duration timeout) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("store.redis.uri: is required for the Redis store");
        }
        List<RedisURI> out = new ArrayList<>();
        // commas also separate the sentinels inside one redis-sentinel:// URI: split only before a scheme
        for (String u : text.split(",(?=\\s*[a-z-]+://)")) {
            try {
                RedisURI uri = RedisURI.create(u.trim());
                uri.setTimeout(timeout);
                out.add(uri);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("store.redis.uri: not a Redis URI: " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static String redacted(List<RedisURI> uris) {
        StringBuilder b = new StringBuilder();
        for (RedisURI u : uris) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(u.toString()); // RedisURI.toString() leaves out credentials
        }
        return b.toString();
    }

    /** Runs {@code hook} on each new connection before it is used (loads the scripts). */
    void onConnect(Consumer<Link> hook) {
        this.onConnect = hook;
    }

    String description() {
        return description;
    }

    /**
     * The connection, connecting first if needed. While another thread connects, or within half
     * a second of a failed attempt, fails at once instead of piling up connection attempts.
     */
    Link link() {
        Link l = link;
        if (l != null) {
            return l;
        }
        if (attempted && System.nanoTime() - lastAttempt < RETRY_CONNECT_NANOS || !connecting.tryLock()) {
            throw new StoreUnavailableException(description + " is not connected" + lastFailure, null);
        }
        try {
            if (link == null) {
                attempted = true;
                lastAttempt = System.nanoTime();
                Link l2 = connect.get();
                onConnect.accept(l2);
                link = l2;
                LOG.info("connected to {}", description);
            }
            return link;
        } catch (RedisException e) {
            String reason = RedisTls.reason(e);
            lastFailure = " (last attempt: " + reason + ")";
            throw new StoreUnavailableException("cannot connect to " + description + ": " + reason, e);
        } finally {
            connecting.unlock();
        }
    }

    /** Tries to connect now; false (with a warning) when Redis cannot be reached yet. */
    boolean tryConnect() {
        try {
            link();
            return true;
        } catch (StoreUnavailableException e) {
            LOG.warn("{}; the budget store connects when Redis is reachable and applies each budget's fail mode "
                    + "until then", e.getMessage());
            return false;
        }
    }

    @Override
    public void close() {
        Link l = link;
        link = null;
        try {
            if (l != null) {
                l.connection().close();
            }
            client.close();
        } catch (Exception e) {
            LOG.debug("closing {}: {}", description, e.toString());
        } finally {
            resources.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }
}
