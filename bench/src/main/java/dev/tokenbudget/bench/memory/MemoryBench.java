package dev.tokenbudget.bench.memory;

import dev.tokenbudget.bench.BenchRedis;
import dev.tokenbudget.bench.Stats;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Memory (not a test): heap per budget with 100k budgets held by the in-memory store, and Redis
 * bytes per budget ({@code MEMORY USAGE}).
 *
 * <p>The 100k budgets are per-user budgets ({@code user_windows} on a key), the case that reaches
 * such numbers: each request of a new user creates one, with a calendar month and a rolling 7-day
 * window, charged by one reserve + settle. Heap is measured with {@link MemoryMXBean} after
 * {@code System.gc()} (settled until two readings agree), before and after, minus the reference:
 * the same number of distinct user-id strings kept alive, which any gateway holds anyway.
 *
 * <pre>bench/memory.sh [BUDGETS] [REDIS_URI]</pre>
 */
public final class MemoryBench {

    static final String CONFIG = """
            version: 1
            budgets:
              - id: org
                windows: [{period: month, limits: {total: 1000000B}}]
            keys:
              - name: app
                sha256: %s
                budget: org
                user_windows:
                  - {period: month, limits: {total: 1M}}
                  - {period: rolling, length: 7d, limits: {total: 300k}}
            """.formatted(KeyHash.of("sk-mem"));

    public static void main(String[] args) throws Exception {
        int budgets = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        String uri = args.length > 1 ? args[1] : "redis://127.0.0.1:6379";
        heap(budgets);
        redis(uri);
    }

    private static void heap(int budgets) {
        List<String> users = new ArrayList<>(budgets);
        for (int i = 0; i < budgets; i++) {
            users.add("user-" + i);
        }
        BudgetEngine engine = BudgetEngine.builder(ConfigLoader.parse(CONFIG)).store(new InMemoryBudgetStore()).build();
        VirtualKey key = engine.authenticate("sk-mem").orElseThrow();
        charge(engine, key, "warm-up");
        long before = usedHeap();
        for (String u : users) {
            charge(engine, key, u);
        }
        long after = usedHeap();
        double perBudget = (after - before) / (double) budgets;
        System.out.printf("in-memory store: %,d user budgets (month + rolling 7d each): %,d bytes of heap, %.0f bytes "
                + "per budget (user-id strings excluded)%n", budgets, after - before, perBudget);
        System.out.printf("FIGURE memory.heap-per-budget %.0f bytes | %,d budgets, month + rolling-7d window each | "
                + "load %s%n", perBudget, budgets, Stats.load());
        // keep both alive until measured
        if (users.size() != budgets || engine.status("org").isEmpty()) {
            throw new IllegalStateException();
        }
        engine.close();
    }

    private static void charge(BudgetEngine engine, VirtualKey key, String user) {
        Ticket t = engine.reserve(new BudgetRequest(key, null, user, "gpt-4o", 100, 50));
        if (!t.accounted()) {
            throw new IllegalStateException("not admitted: " + t.decision());
        }
        engine.settle(t, TokenUsage.of(90, 40));
    }

    private static long usedHeap() {
        MemoryMXBean mx = ManagementFactory.getMemoryMXBean();
        long last = -1;
        for (int i = 0; i < 20; i++) {
            System.gc();
            long now = mx.getHeapMemoryUsage().getUsed();
            if (Math.abs(now - last) < 64 * 1024) {
                return now;
            }
            last = now;
        }
        return last;
    }

    /** MEMORY USAGE of one user budget's keys, its rolling window holding all 60 buckets. */
    private static void redis(String uri) {
        String prefix = "tbmem-" + Long.toString(System.nanoTime(), 36);
        BudgetStore store = RedisBudgetStore.open(new StoreSettings("redis", uri, false, Duration.ofSeconds(5),
                prefix));
        RedisClient client = RedisClient.create(uri);
        try (StatefulRedisConnection<String, String> conn = client.connect()) {
            RedisCommands<String, String> redis = conn.sync();
            BudgetEngine engine = BudgetEngine.builder(ConfigLoader.parse(CONFIG)).store(store).build();
            VirtualKey key = engine.authenticate("sk-mem").orElseThrow();
            // one request in each rolling bucket (7d / 60 = 168 min) of the last week, through the real scripts
            ManualClock clock = new ManualClock(Instant.now().minus(Duration.ofMinutes(168 * 59)));
            BudgetEngine at = BudgetEngine.builder(ConfigLoader.parse(CONFIG)).store(store).clock(clock).build();
            for (int k = 59; k >= 0; k--) {
                charge(at, key, "u1");
                clock.advance(Duration.ofMinutes(168));
            }
            long month = 0;
            long rolling = 0;
            for (String k : redis.keys(prefix + ":*")) {
                long bytes = redis.memoryUsage(k);
                String type = redis.type(k);
                long size = type.equals("hash") ? redis.hlen(k) : type.equals("zset") ? redis.zcard(k) : 1;
                System.out.printf("  %-60s %,6d bytes  (%s of %d)%n", k, bytes, type, size);
                if (k.contains(":w:user:") && k.contains("rolling")) {
                    rolling += bytes;
                } else if (k.contains(":w:user:")) {
                    month += bytes;
                }
            }
            System.out.printf("FIGURE memory.redis-per-budget %,d bytes (month window %,d + rolling-7d window with 60 "
                    + "buckets %,d) | load %s%n", month + rolling, month, rolling, Stats.load());
            BenchRedis.deleteKeys(redis, prefix);
            engine.close();
            at.close();
        } finally {
            client.shutdown();
        }
    }
}
