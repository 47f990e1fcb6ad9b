import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Benchmark (not a test) of the Redis store: reserve + settle decisions per second and their
 * latency percentiles, beside a no-op EVALSHA at the same concurrency (the round-trip ceiling).
 *
 * <pre>bench/redis-store.sh [REDIS_URI] [THREADS] [SECONDS]</pre>
 *
 * The path is the engine's usual shape: three budgets (team, product, org), each with a calendar
 * month, plus a rolling 7-day window on the org: four slots in one script call.
 */
public final class RedisStoreBench {

    public static void main(String[] args) throws Exception {
        String uri = args.length > 0 ? args[0] : "redis://127.0.0.1:6379";
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        String prefix = "tbbench-" + Long.toString(System.nanoTime(), 36);
        System.out.printf("Redis %s, %d threads, %d s per phase (after %d s warm-up), %d cores%n", uri, threads,
                seconds, Math.max(1, seconds / 3), Runtime.getRuntime().availableProcessors());

        RedisClient client = RedisClient.create(uri);
        StatefulRedisConnection<String, String> conn = client.connect();
        RedisCommands<String, String> redis = conn.sync();
        String noop = redis.scriptLoad(resource("tokenbudget/noop.lua"));
        String[] noopKeys = {prefix + ":{bench}:l"};

        RedisBudgetStore store = RedisBudgetStore.open(new StoreSettings("redis", uri, false, Duration.ofSeconds(2),
                prefix));
        try {
            Phase ceiling = run("no-op EVALSHA", threads, seconds, t -> {
                long s = System.nanoTime();
                redis.evalsha(noop, ScriptOutputType.INTEGER, noopKeys);
                return new long[] {System.nanoTime() - s};
            });
            WindowSpec month = WindowSpec.calendar(Period.MONTH, ZoneOffset.UTC);
            WindowSpec week = WindowSpec.rolling(Duration.ofDays(7));
            long big = 1L << 50;
            Phase decisions = run("reserve + settle (4 slots)", threads, seconds, t -> {
                Instant now = Instant.now();
                List<Slot> slots = List.of(
                        new Slot("team", month.at(now), Limits.total(big), Limits.total(big), List.of(75, 90, 100)),
                        new Slot("product", month.at(now), Limits.total(big), Limits.total(big), List.of(75, 90, 100)),
                        new Slot("org", month.at(now), Limits.total(big), Limits.total(big), List.of(75, 90, 100)),
                        new Slot("org", week.at(now), Limits.total(big), Limits.total(big), List.of(75, 90, 100)));
                String lease = "b-" + t.id + "-" + (t.n++);
                long s = System.nanoTime();
                ReserveResult r = store.reserve(new ReserveCommand("bench", lease, now, now.plusSeconds(600), slots,
                        500, 300));
                long mid = System.nanoTime();
                if (!r.admitted()) {
                    throw new IllegalStateException("refused: " + r);
                }
                store.settle(new SettleCommand("bench", lease, now, 420, 250, false));
                long e = System.nanoTime();
                return new long[] {e - s, mid - s, e - mid};
            });
            System.out.println();
            System.out.println("| measure | ops/s | p50 µs | p99 µs |");
            System.out.println("|---|---:|---:|---:|");
            ceiling.row("no-op EVALSHA (ceiling: one round trip)", 0);
            decisions.row("reserve + settle (one decision, 2 round trips)", 0);
            decisions.row("  reserve alone (4 slots, one EVALSHA)", 1);
            decisions.row("  settle alone (one EVALSHA)", 2);
        } finally {
            store.close();
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> page = redis.scan(cursor, ScanArgs.Builder.matches(prefix + ":*").limit(500));
                if (!page.getKeys().isEmpty()) {
                    redis.del(page.getKeys().toArray(new String[0]));
                }
                cursor = page;
            } while (!cursor.isFinished());
            conn.close();
            client.shutdown();
        }
    }

    /** Per-thread state of a phase. */
    static final class Worker {
        final int id;
        long n;
        final List<long[]> samples = new ArrayList<>();

        Worker(int id) {
            this.id = id;
        }
    }

    interface Op {
        long[] call(Worker w) throws Exception;
    }

    /** One measured phase: operations and their latencies (ns) per measure. */
    record Phase(String name, long ops, double seconds, long[][] latencies) {

        void row(String label, int measure) {
            long[] l = latencies[measure];
            System.out.printf("| %s | %,.0f | %.0f | %.0f |%n", label, ops / seconds, pct(l, 50) / 1e3,
                    pct(l, 99) / 1e3);
        }

        static double pct(long[] sorted, double p) {
            return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)];
        }
    }

    static Phase run(String name, int threads, int seconds, Op op) throws Exception {
        System.out.println("running " + name + " ...");
        phase(threads, Math.max(1, seconds / 3), op); // warm-up: JIT, connections, scripts
        return phase(threads, seconds, op).named(name);
    }

    private static PhaseResult phase(int threads, int seconds, Op op) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch start = new CountDownLatch(1);
        List<Worker> workers = new ArrayList<>();
        List<Thread> ts = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        for (int i = 0; i < threads; i++) {
            Worker w = new Worker(i);
            workers.add(w);
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    while (!stop.get()) {
                        w.samples.add(op.call(w));
                    }
                } catch (Throwable e) {
                    failure[0] = e;
                    stop.set(true);
                }
            });
            t.start();
            ts.add(t);
        }
        long begin = System.nanoTime();
        start.countDown();
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        for (Thread t : ts) {
            t.join();
        }
        double elapsed = (System.nanoTime() - begin) / 1e9;
        if (failure[0] != null) {
            throw new IllegalStateException("benchmark failed", failure[0]);
        }
        return new PhaseResult(workers, elapsed);
    }

    record PhaseResult(List<Worker> workers, double seconds) {
        Phase named(String name) {
            int measures = workers.stream().flatMap(w -> w.samples.stream()).findFirst().map(a -> a.length).orElse(1);
            long ops = workers.stream().mapToLong(w -> w.samples.size()).sum();
            long[][] lat = new long[measures][(int) ops];
            int i = 0;
            for (Worker w : workers) {
                for (long[] s : w.samples) {
                    for (int m = 0; m < measures; m++) {
                        lat[m][i] = s[m];
                    }
                    i++;
                }
            }
            for (long[] l : lat) {
                Arrays.sort(l);
            }
            return new Phase(name, ops, seconds, lat);
        }
    }

    private static String resource(String path) throws Exception {
        try (InputStream in = RedisStoreBench.class.getClassLoader().getResourceAsStream(path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
