package dev.tokenbudget.bench.redis;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.block.BlockStore;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/**
 * The path the Redis benchmarks decide on, the engine's usual shape: three budgets (team,
 * product, org), each with a calendar month, plus a rolling 7-day window on the org: four slots in
 * one script call. Limits are far away, so every request is admitted.
 */
final class BenchPath {

    static final String TREE = "bench";
    private static final WindowSpec MONTH = WindowSpec.calendar(Period.MONTH, ZoneOffset.UTC);
    private static final WindowSpec WEEK = WindowSpec.rolling(Duration.ofDays(7));
    private static final long BIG = 1L << 50;
    private static final List<Integer> THRESHOLDS = List.of(75, 90, 100);

    private BenchPath() {
    }

    static List<Slot> at(Instant now) {
        return List.of(slot("team", MONTH, now), slot("product", MONTH, now), slot("org", MONTH, now),
                slot("org", WEEK, now));
    }

    private static Slot slot(String budget, WindowSpec w, Instant now) {
        return new Slot(budget, w.at(now), Limits.total(BIG), Limits.total(BIG), THRESHOLDS);
    }

    /**
     * Usage in each of the rolling window's 60 buckets, through the store's own reserve and settle:
     * the steady state of a rolling window that sees traffic all week (a fresh one has one bucket).
     */
    static void fillRollingWindow(BudgetStore store) {
        Instant now = Instant.now();
        long bucketMs = WEEK.at(now).bucketMillis();
        for (int k = WindowSpec.ROLLING_BUCKETS - 1; k >= 0; k--) {
            Instant t = now.minusMillis(k * bucketMs);
            String lease = "fill-" + k;
            store.reserve(new ReserveCommand(TREE, lease, t, t.plusSeconds(600), at(t), 5, 5));
            store.settle(new SettleCommand(TREE, lease, t, 5, 5, false));
        }
    }

    /**
     * The Redis store the benchmarks decide on: in token blocks of up to {@code TB_BLOCKS} requests
     * when that environment variable is set (docs/redis.md "Token blocks"), else one script per decision.
     */
    static BudgetStore open(String uri, Duration timeout, String prefix) {
        RedisBudgetStore redis = RedisBudgetStore.open(new StoreSettings("redis", uri, false, timeout, prefix));
        String blocks = System.getenv("TB_BLOCKS");
        if (blocks == null || blocks.isBlank()) {
            return redis;
        }
        return new BlockStore(redis, BlockSettings.of(Integer.parseInt(blocks.trim()), 0.1, Duration.ofSeconds(1)));
    }

    /** "" for one script per decision, " (blocks of N)" in token blocks: for the figure lines. */
    static String mode(BudgetStore store) {
        return store instanceof BlockStore b ? " blocks " + b.stats() : "";
    }
}
