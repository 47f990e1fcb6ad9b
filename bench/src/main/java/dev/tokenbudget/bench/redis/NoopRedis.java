package dev.tokenbudget.bench.redis;

import dev.tokenbudget.bench.BenchRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The Redis benchmarks' own connection, beside the store they measure: the no-op script
 * (tokenbudget/noop.lua, one EVALSHA round trip that does nothing) that every Redis figure is set
 * against, and the server's statistics. Closing it deletes the benchmark's keys.
 */
final class NoopRedis implements AutoCloseable {

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> conn;
    private final RedisCommands<String, String> redis;
    private final String prefix;
    private final String sha;
    private final String[] keys;

    NoopRedis(String uri, String prefix) {
        this.client = RedisClient.create(uri);
        this.conn = client.connect();
        this.redis = conn.sync();
        this.prefix = prefix;
        this.sha = redis.scriptLoad(script());
        this.keys = new String[] {prefix + ":{" + BenchPath.TREE + "}:l"};
    }

    /** The connection's commands (INFO, CONFIG RESETSTAT). */
    RedisCommands<String, String> commands() {
        return redis;
    }

    /** One no-op EVALSHA. */
    void call() {
        redis.evalsha(sha, ScriptOutputType.INTEGER, keys);
    }

    @Override
    public void close() {
        try {
            BenchRedis.deleteKeys(redis, prefix);
        } finally {
            conn.close();
            client.shutdown();
        }
    }

    private static String script() {
        try (InputStream in = NoopRedis.class.getClassLoader().getResourceAsStream("tokenbudget/noop.lua")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
