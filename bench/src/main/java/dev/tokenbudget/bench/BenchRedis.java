package dev.tokenbudget.bench;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.sync.RedisCommands;

/** Redis chores of the benchmarks. */
public final class BenchRedis {

    private BenchRedis() {
    }

    /** Deletes every key under {@code prefix} (the benchmark's own, never anything else). */
    public static void deleteKeys(RedisCommands<String, String> redis, String prefix) {
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> page = redis.scan(cursor, ScanArgs.Builder.matches(prefix + ":*").limit(500));
            if (!page.getKeys().isEmpty()) {
                redis.del(page.getKeys().toArray(new String[0]));
            }
            cursor = page;
        } while (!cursor.isFinished());
    }
}
