package dev.tokenbudget.store.redis;

import dev.tokenbudget.store.StoreUnavailableException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
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
import java.util.function.Consumer;

/**
 * The Lua scripts of the Redis store, read once from {@code tokenbudget/*.lua} (each with
 * {@code common.lua} in front) and run with EVALSHA. A NOSCRIPT answer (SCRIPT FLUSH, a restarted
 * or new node) means the script did not run, so it is run again with EVAL, which also caches it,
 * and reported: the call itself succeeds.
 */
final class RedisScripts {

    private static final Logger LOG = LoggerFactory.getLogger(RedisScripts.class);

    /** One script: its name, full body and SHA-1 digest. */
    enum Script {
        RESERVE("reserve"),
        SETTLE("settle"),
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
        Script(String name) {
            this.name = name;
            this.body = resource("common") + resource(name);
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
}
