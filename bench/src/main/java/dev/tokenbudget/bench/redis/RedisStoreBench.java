package dev.tokenbudget.bench.redis;

import dev.tokenbudget.bench.Stats;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import io.lettuce.core.api.sync.RedisCommands;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Benchmark (not a test) of the Redis store: reserve + settle decisions per second and their
 * latency percentiles, beside a no-op EVALSHA at the same concurrency (the round-trip ceiling).
 * The two phases alternate, round after round, so that both see the same machine; the figures
 * are medians over the rounds, and the ratio is taken within each round.
 *
 * <pre>bench/redis-store.sh [REDIS_URI] [THREADS] [SECONDS_PER_PHASE] [ROUNDS]</pre>
 *
 * The decision is the store's: {@code reserve} over {@link BenchPath}'s four slots then
 * {@code settle}, from N threads sharing one {@link RedisBudgetStore} (one Lettuce connection, as
 * an engine does; the store group-commits the commands of one tree into calls of batch.lua). Per
 * round it also reports script calls per decision and Redis time per decision from
 * {@code INFO commandstats} (server-wide: use a Redis nobody else uses). The no-op runs over its
 * own Lettuce connection. The rolling window is filled first (60 buckets), its steady state.
 */
public final class RedisStoreBench {

    public static void main(String[] args) throws Exception {
        String uri = args.length > 0 ? args[0] : "redis://127.0.0.1:6379";
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        String prefix = "tbbench-" + Long.toString(System.nanoTime(), 36);
        System.out.printf("Redis %s, %d threads, %d rounds of %d s per phase, %d cores, load %s%n", uri, threads,
                rounds, seconds, Runtime.getRuntime().availableProcessors(), Stats.load());

        NoopRedis noop = new NoopRedis(uri, prefix);
        RedisCommands<String, String> redis = noop.commands();
        BudgetStore store = BenchPath.open(uri, Duration.ofSeconds(5), prefix);
        try {
            BenchPath.fillRollingWindow(store);
            Op ceiling = w -> {
                long s = System.nanoTime();
                noop.call();
                return new long[] {System.nanoTime() - s};
            };
            Op decision = w -> {
                Instant now = Instant.now();
                String lease = "b-" + w.id + "-" + (w.n++);
                long s = System.nanoTime();
                ReserveResult r = store.reserve(new ReserveCommand(BenchPath.TREE, lease, now, now.plusSeconds(600),
                        BenchPath.at(now), 500, 300));
                long mid = System.nanoTime();
                if (!r.admitted()) {
                    throw new IllegalStateException("refused: " + r);
                }
                store.settle(new SettleCommand(BenchPath.TREE, lease, now, 420, 250, false));
                long e = System.nanoTime();
                return new long[] {e - s, mid - s, e - mid};
            };
            // warm-up: JIT, connections, script cache
            phase(threads, Math.max(1, seconds / 2), ceiling);
            phase(threads, Math.max(1, seconds / 2), decision);
            List<Phase> noops = new ArrayList<>();
            List<Phase> decisions = new ArrayList<>();
            List<Double> callsPerDecision = new ArrayList<>();
            List<Double> usecPerDecision = new ArrayList<>();
            List<Double> usecPerNoop = new ArrayList<>();
            for (int r = 1; r <= rounds; r++) {
                long[] s0 = scriptStats(redis);
                Phase c = phase(threads, seconds, ceiling);
                long[] s1 = scriptStats(redis);
                Phase d = phase(threads, seconds, decision);
                long[] s2 = scriptStats(redis);
                noops.add(c);
                decisions.add(d);
                // INFO commandstats of the whole server: run it on a Redis nobody else uses
                callsPerDecision.add((double) (s2[0] - s1[0]) / d.ops());
                usecPerDecision.add((double) (s2[1] - s1[1]) / d.ops());
                usecPerNoop.add((double) (s1[1] - s0[1]) / Math.max(1, s1[0] - s0[0]));
                System.out.printf("round %d: no-op %,.0f/s p50 %.0f µs p99 %.0f µs | decision %,.0f/s p50 %.0f µs "
                        + "p99 %.0f µs | ratio %.3f | script calls/decision %.3f | Redis µs/decision %.1f (no-op "
                        + "%.1f) | load %s%n", r, c.rate(), c.p(0, 50), c.p(0, 99), d.rate(), d.p(0, 50), d.p(0, 99),
                        d.rate() / c.rate(), callsPerDecision.get(r - 1), usecPerDecision.get(r - 1),
                        usecPerNoop.get(r - 1), Stats.load());
            }
            System.out.println();
            System.out.println("| measure (median of " + rounds + " rounds) | ops/s | p50 µs | p99 µs |");
            System.out.println("|---|---:|---:|---:|");
            row("no-op EVALSHA (ceiling: one round trip)", noops, 0);
            row("reserve + settle (one decision)", decisions, 0);
            row("reserve alone (4 slots)", decisions, 1);
            row("settle alone", decisions, 2);
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                ratios.add(decisions.get(i).rate() / noops.get(i).rate());
            }
            double ratio = Stats.median(ratios);
            double perDecision = Stats.median(callsPerDecision);
            double usec = Stats.median(usecPerDecision);
            double usecNoop = Stats.median(usecPerNoop);
            System.out.printf("%nratio decisions/s : no-op calls/s = %.3f; script calls per decision %.3f (2 without "
                    + "group commit); Redis time per decision %.1f µs = %.1f × the no-op's %.1f µs%n", ratio,
                    perDecision, usec, usec / usecNoop, usecNoop);
            System.out.printf("FIGURE redis.decision%s %,.0f/s p50=%.0fus p99=%.0fus | ref noop-evalsha %,.0f/s "
                    + "| ratio %.3f | calls/decision %.3f | redis-us/decision %.1f (%.1fx noop) | threads %d | load %s%n",
                    BenchPath.mode(store).isEmpty() ? "" : ".blocks", med(decisions, Phase::rate),
                    med(decisions, p -> p.p(0, 50)), med(decisions, p -> p.p(0, 99)),
                    med(noops, Phase::rate), ratio, perDecision, usec, usec / usecNoop, threads, Stats.load());
            System.out.println("mode:" + (BenchPath.mode(store).isEmpty() ? " one script per decision"
                    : BenchPath.mode(store)));
        } finally {
            store.close();
            noop.close();
        }
    }

    /** Script calls and their Redis time (µs) so far, server-wide: EVALSHA plus EVAL (INFO commandstats). */
    static long[] scriptStats(RedisCommands<String, String> redis) {
        long calls = 0;
        long usec = 0;
        for (String line : redis.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
                for (String part : line.substring(line.indexOf(':') + 1).split(",")) {
                    if (part.startsWith("calls=")) {
                        calls += Long.parseLong(part.substring(6));
                    } else if (part.startsWith("usec=")) {
                        usec += Long.parseLong(part.substring(5));
                    }
                }
            }
        }
        return new long[] {calls, usec};
    }

    private static double med(List<Phase> phases, java.util.function.ToDoubleFunction<Phase> f) {
        return Stats.median(phases.stream().map(p -> f.applyAsDouble(p)).toList());
    }

    private static void row(String label, List<Phase> phases, int measure) {
        System.out.printf("| %s | %,.0f | %.0f | %.0f |%n", label, med(phases, Phase::rate),
                med(phases, p -> p.p(measure, 50)), med(phases, p -> p.p(measure, 99)));
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

    /** One measured phase: operations per second and sorted latencies (ns) per measure. */
    record Phase(long ops, double seconds, long[][] latencies) {

        double rate() {
            return ops / seconds;
        }

        /** Percentile {@code pct} of measure {@code m}, in µs. */
        double p(int m, double pct) {
            return Stats.percentile(latencies[m], pct) / 1e3;
        }
    }

    static Phase phase(int threads, int seconds, Op op) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch start = new CountDownLatch(1);
        List<Worker> workers = new ArrayList<>();
        List<Thread> ts = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
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
                    failure.compareAndSet(null, e);
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
        if (failure.get() != null) {
            throw new IllegalStateException("benchmark failed", failure.get());
        }
        int measures = workers.stream().flatMap(w -> w.samples.stream()).findFirst().map(a -> a.length).orElse(1);
        long ops = workers.stream().mapToLong(w -> w.samples.size()).sum();
        long[][] lat = new long[measures][];
        for (int m = 0; m < measures; m++) {
            List<long[]> parts = new ArrayList<>();
            for (Worker w : workers) {
                long[] l = new long[w.samples.size()];
                for (int i = 0; i < l.length; i++) {
                    l[i] = w.samples.get(i)[m];
                }
                parts.add(l);
            }
            lat[m] = Stats.merged(parts);
        }
        return new Phase(ops, elapsed, lat);
    }
}
