package dev.tokenbudget.bench.redis;

import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import io.lettuce.core.api.sync.RedisCommands;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Driver (not a test) of {@code bench/redis-callgrind.sh}: the load of {@link RedisStoreBench} (N
 * threads, reserve + settle on {@link BenchPath}'s four slots through one store, group-committed)
 * and the no-op EVALSHA, each a fixed number of times, against a {@code redis-server} running under
 * {@code valgrind --tool=callgrind --instr-atstart=no}. Around each measured phase it turns
 * instrumentation on and off with {@code callgrind_control} (so set-up, script loading and the fill are
 * not counted) and dumps the counts with the phase's name; the script reads instructions from the
 * dumps. Instruction counts do not depend on the machine's load; batch sizes do a little (they
 * form while a call is in flight), so the phase also prints script calls per decision.
 *
 * <pre>RedisDecisionCost REDIS_URI REDIS_PID THREADS DECISIONS [WAVE]</pre>
 *
 * With {@code TB_BLOCKS=N} in the environment the store decides in token blocks of up to N requests
 * ({@link BenchPath#open}); the MODE line then gives the blocks' counts.
 *
 * <p>With WAVE k, the decisions are made in waves from one thread instead: k reserves (the first
 * goes alone, the others queue behind it) and the settles of the previous wave's k leases, so that
 * every run forms the same batches (1 and 2k - 1 commands) and counts agree to a few tenths of a
 * percent, where the threads' batches vary from run to run by a few percent.
 */
public final class RedisDecisionCost {

    public static void main(String[] args) throws Exception {
        String uri = args[0];
        String pid = args[1];
        int threads = Integer.parseInt(args[2]);
        long decisions = Long.parseLong(args[3]);
        int waves = args.length > 4 ? Integer.parseInt(args[4]) : 0;
        String prefix = "tbcost-" + Long.toString(System.nanoTime(), 36);
        NoopRedis noop = new NoopRedis(uri, prefix);
        RedisCommands<String, String> redis = noop.commands();
        BudgetStore store = BenchPath.open(uri, Duration.ofSeconds(60), prefix);
        try {
            BenchPath.fillRollingWindow(store);
            AtomicLong seq = new AtomicLong();
            Op decision = w -> {
                Instant now = Instant.now();
                String lease = "b-" + w + "-" + seq.incrementAndGet();
                ReserveResult r = store.reserve(new ReserveCommand(BenchPath.TREE, lease, now, now.plusSeconds(600),
                        BenchPath.at(now), 500, 300));
                if (!r.admitted()) {
                    throw new IllegalStateException("refused: " + r);
                }
                store.settle(new SettleCommand(BenchPath.TREE, lease, now, 420, 250, false));
            };
            Op ceiling = w -> noop.call();
            run(threads, Math.max(threads, decisions / 10), decision); // warm-up: the lease hash's steady state
            measure(redis, pid, "noop", threads, decisions, ceiling);
            if (waves > 0) {
                // the same batches every time: per wave one reserve alone, then waves - 1 reserves and the
                // settles of the previous wave's leases together (queued while the first is in flight)
                measure(redis, pid, "decision", 1, decisions / waves, w -> wave(store, waves, w, seq));
            } else {
                measure(redis, pid, "decision", threads, decisions, decision);
            }
            System.out.println("MODE" + (BenchPath.mode(store).isEmpty() ? " one script per decision"
                    : BenchPath.mode(store)));
        } finally {
            store.close();
            noop.close();
        }
    }

    private static final List<String> PENDING = new ArrayList<>();

    /** One wave of {@code k} reserves and the settles of the previous wave's leases; blocks until all answered. */
    private static void wave(BudgetStore store, int k, int worker, AtomicLong seq) {
        Instant now = Instant.now();
        List<CompletableFuture<?>> replies = new ArrayList<>();
        List<String> leases = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            String lease = "w-" + seq.incrementAndGet();
            leases.add(lease);
            replies.add(store.reserveAsync(new ReserveCommand(BenchPath.TREE, lease, now, now.plusSeconds(600),
                    BenchPath.at(now), 500, 300)).toCompletableFuture());
        }
        for (String lease : PENDING) {
            replies.add(store.settleAsync(new SettleCommand(BenchPath.TREE, lease, now, 420, 250, false))
                    .toCompletableFuture());
        }
        PENDING.clear();
        PENDING.addAll(leases);
        CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).join();
    }

    interface Op {
        void call(int worker) throws Exception;
    }

    private static void measure(RedisCommands<String, String> redis, String pid, String name, int threads, long ops,
                                Op op) throws Exception {
        redis.configResetstat();
        callgrind(pid, "-z");
        callgrind(pid, "-i", "on");
        run(threads, ops, op);
        callgrind(pid, "-i", "off");
        callgrind(pid, "-d", name);
        long[] s = RedisStoreBench.scriptStats(redis);
        System.out.printf("PHASE %s ops=%d script_calls=%d calls_per_op=%.4f%n", name, ops, s[0], (double) s[0] / ops);
        // the commands the scripts issued, per operation (INFO commandstats counts those too)
        StringBuilder per = new StringBuilder();
        for (String line : redis.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_") && !line.startsWith("cmdstat_config") && !line.startsWith("cmdstat_info")) {
                String cmd = line.substring(8, line.indexOf(':'));
                long calls = Long.parseLong(line.replaceAll("^[^:]+:calls=(\\d+),.*", "$1"));
                per.append(String.format(" %s=%.2f", cmd, (double) calls / ops));
            }
        }
        System.out.println("COMMANDS " + name + " per op:" + per);
    }

    private static void callgrind(String pid, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("callgrind_control"));
        cmd.addAll(List.of(args));
        cmd.add(pid);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("failed: " + cmd);
        }
    }

    /** {@code ops} calls of {@code op} shared among {@code threads} threads. */
    private static void run(int threads, long ops, Op op) throws Exception {
        AtomicLong left = new AtomicLong(ops);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            int id = i;
            Thread t = new Thread(() -> {
                try {
                    while (left.getAndDecrement() > 0 && failure.get() == null) {
                        op.call(id);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            t.start();
            ts.add(t);
        }
        for (Thread t : ts) {
            t.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("benchmark failed", failure.get());
        }
    }
}
