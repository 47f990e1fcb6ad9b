package dev.tokenbudget.store.redis;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.net.URI;

/**
 * Finds the Redis that tests share: {@code REDIS_URL}, else 127.0.0.1:6379, else a
 * {@code redis-server} from the PATH started once for this JVM on a free port. Without any, a test
 * fails with a clear message when {@code CI} is set (so CI cannot pass by skipping) and is skipped
 * elsewhere. Tests on the shared Redis use their own key prefix and never flush it.
 */
public final class TestRedis {

    private static String shared;

    private TestRedis() {
    }

    /** URI of the shared Redis. */
    public static synchronized String uri() {
        if (shared != null) {
            return shared;
        }
        String env = System.getenv("REDIS_URL");
        if (env != null && !env.isBlank()) {
            shared = env.trim();
        } else if (RedisTestServer.ping(6379)) {
            shared = "redis://127.0.0.1:6379";
        } else {
            requireBinary("redis-server");
            RedisTestServer server = RedisTestServer.start();
            Runtime.getRuntime().addShutdownHook(new Thread(server::close));
            shared = server.uri();
        }
        return shared;
    }

    /** Port of the shared Redis (for plain-socket helpers). */
    public static int port() {
        int p = URI.create(uri()).getPort();
        return p < 0 ? 6379 : p;
    }

    /** Deletes the keys under {@code prefix} from the shared Redis. */
    public static void deleteKeys(String prefix) {
        TestKeys.deleteByPrefix(uri(), prefix);
    }

    /** A key prefix no other test uses. */
    public static String uniquePrefix(String what) {
        return "tbtest-" + what + "-" + Long.toString(System.nanoTime(), 36);
    }

    /** Fails (CI) or skips the calling test when {@code binary} is not on the PATH. */
    static void requireBinary(String binary) {
        requireTool(binary, "no Redis for the test: REDIS_URL is unset, nothing answers on 127.0.0.1:6379 and "
                + binary + " is not on the PATH (apt-get install redis-server, or set REDIS_URL)");
    }

    /**
     * Fails (CI) or skips the calling test, with {@code message}, when {@code binary} is not on
     * the PATH: CI cannot pass by skipping, a developer without the tool is not stopped.
     */
    static void requireTool(String binary, String message) {
        if (onPath(binary)) {
            return;
        }
        String ci = System.getenv("CI");
        if (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false")) {
            throw new IllegalStateException(message);
        }
        Assumptions.abort(message);
    }

    private static boolean onPath(String binary) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (new File(dir, binary).canExecute()) {
                return true;
            }
        }
        return false;
    }
}
