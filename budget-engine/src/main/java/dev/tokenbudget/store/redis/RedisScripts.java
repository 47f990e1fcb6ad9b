package dev.tokenbudget.store.redis;

import dev.tokenbudget.store.StoreUnavailableException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.api.sync.RedisScriptingCommands;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * The Lua scripts of the Redis store, read once from {@code tokenbudget/*.lua} (each with the
 * shared functions of {@link #COMMON} in front) and run with EVALSHA. A NOSCRIPT answer (SCRIPT
 * FLUSH, a restarted or new node) means the script did not run, so it is run again with EVAL,
 * which also caches it, and reported: the call itself succeeds.
 */
final class RedisScripts {

    private static final Logger LOG = LoggerFactory.getLogger(RedisScripts.class);

    /** The files of functions every script shares, in the order they are put in front of it. */
    static final List<String> COMMON = List.of("common", "common-window", "common-pool", "common-lease");

    /** One script: its name, full body and SHA-1 digest. */
    enum Script {
        RESERVE("reserve", "reserve-cmd"),
        SETTLE("settle", "settle-cmd"),
        BATCH("batch", "reserve-cmd", "settle-cmd"),
        EXPIRE("expire"),
        READ("read"),
        REBALANCE("rebalance"),
        HOLD("hold"),
        ALLOCATION("allocation"),
        LEDGER("ledger"),
        LEDGER_APPEND("ledger-append"),
        SAVE_LIMITS("save-limits"),
        LIMITS("limits");

        final String name;
        final String body;
        final String sha;

        // noop.lua (not listed) is the benchmark's ceiling: one EVALSHA round trip doing nothing
        /** {@code parts}: files between the {@link #COMMON} ones and the script's own (functions it calls). */
        Script(String name, String... parts) {
            this.name = name;
            StringBuilder b = new StringBuilder();
            for (String c : COMMON) {
                b.append(resource(c));
            }
            for (String p : parts) {
                b.append(resource(p));
            }
            this.body = b.append(resource(name)).toString();
            this.sha = sha1(body);
        }
    }

    private RedisScripts() {
    }

    static String resource(String name) {
        String path = "tokenbudget/" + name + ".lua";
        try (InputStream in = RedisScripts.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
    }

    private static String sha1(String body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                    .digest(body.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every Java runtime", e);
        }
    }

    /** SCRIPT LOAD of every script (on every master of a Cluster); run once per new connection. */
    static void loadAll(RedisScriptingCommands<String, String> redis) {
        for (Script s : Script.values()) {
            String sha = redis.scriptLoad(s.body);
            if (!s.sha.equalsIgnoreCase(sha)) {
                throw new IllegalStateException("Redis returned digest " + sha + " for script " + s.name
                        + ", expected " + s.sha);
            }
        }
    }

    /**
     * Runs {@code script}; Redis errors become {@link StoreUnavailableException}s naming the script
     * and tree. {@code reloaded} hears of a script Redis had lost.
     */
    static <T> T run(RedisScriptingCommands<String, String> redis, Script script, ScriptOutputType type,
                     String[] keys, String[] args, String treeId, Consumer<String> reloaded) {
        try {
            try {
                return redis.evalsha(script.sha, type, keys, args);
            } catch (RedisNoScriptException e) {
                String why = "Redis had lost the tokenbudget script '" + script.name + "' (SCRIPT FLUSH, restart or "
                        + "failover); it was loaded again and nothing was counted twice";
                LOG.warn(why);
                T result = redis.eval(script.body, type, keys, args);
                reloaded.accept(why);
                return result;
            }
        } catch (RedisException e) {
            throw new StoreUnavailableException("Redis script '" + script.name + "' on budget tree '" + treeId
                    + "' failed: " + e.getMessage(), e);
        }
    }

    /**
     * {@link #run} without blocking: the stage completes on Lettuce's I/O thread with the reply, or
     * exceptionally with a {@link StoreUnavailableException}. NOSCRIPT is answered as in {@link #run}.
     */
    static <T> CompletableFuture<T> runAsync(RedisScriptingAsyncCommands<String, String> redis, Script script,
                                             ScriptOutputType type, String[] keys, String[] args, String treeId,
                                             Consumer<String> reloaded) {
        CompletableFuture<T> out = new CompletableFuture<>();
        RedisFuture<T> first = redis.evalsha(script.sha, type, keys, args);
        first.whenComplete((r, e) -> {
            if (e == null) {
                out.complete(r);
                return;
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (!(cause instanceof RedisNoScriptException)) {
                out.completeExceptionally(failure(script, treeId, cause));
                return;
            }
            // NOSCRIPT: the script did not run, so running its body now runs it once
            String why = "Redis had lost the tokenbudget script '" + script.name + "' (SCRIPT FLUSH, restart or "
                    + "failover); it was loaded again and nothing was counted twice";
            LOG.warn(why);
            RedisFuture<T> second = redis.eval(script.body, type, keys, args);
            second.whenComplete((r2, e2) -> {
                if (e2 == null) {
                    reloaded.accept(why);
                    out.complete(r2);
                } else {
                    out.completeExceptionally(failure(script, treeId,
                            e2 instanceof CompletionException && e2.getCause() != null ? e2.getCause() : e2));
                }
            });
        });
        return out;
    }

    private static StoreUnavailableException failure(Script script, String treeId, Throwable e) {
        return new StoreUnavailableException("Redis script '" + script.name + "' on budget tree '" + treeId
                + "' failed: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
    }
}
