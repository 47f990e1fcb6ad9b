package dev.tokenbudget.bench.redis;

import dev.tokenbudget.bench.Stats;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import io.lettuce.core.api.sync.RedisCommands;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Profile (not a test) of the Redis store's scripts: Redis-side microseconds per script call,
 * from {@code INFO commandstats}, for the no-op EVALSHA, {@code reserve.lua} and
 * {@code settle.lua}, and which Redis commands each script issues. One client thread calls
 * serially, so the figures are the time Redis spends, not queueing. Phases are interleaved
 * (no-op, reserve, settle) and repeated; medians over the rounds.
 *
 * <pre>bench/redis-profile.sh [REDIS_URI] [CALLS_PER_PHASE] [ROUNDS] [fill|nofill]</pre>
 *
 * Use a Redis of your own (nothing else calling it) for clean command statistics: the script
 * resets them ({@code CONFIG RESETSTAT}). The path is the benchmark's: team, product and org
 * monthly windows plus a rolling 7-day window on the org, whose 60 buckets are filled first
 * (the steady state of a rolling window that sees traffic all week; {@code nofill} leaves it
 * with one bucket, as on the first day).
 */
public final class RedisScriptProfile {

    private static final String CPU = "~cpu";

    public static void main(String[] args) throws Exception {
        String uri = args.length > 0 ? args[0] : "redis://127.0.0.1:6379";
        int calls = args.length > 1 ? Integer.parseInt(args[1]) : 3000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        boolean fill = args.length <= 3 || !args[3].equals("nofill");
        String prefix = "tbprof-" + Long.toString(System.nanoTime(), 36);
        NoopRedis noop = new NoopRedis(uri, prefix);
        RedisCommands<String, String> redis = noop.commands();
        RedisBudgetStore store = RedisBudgetStore.open(new StoreSettings("redis", uri, false, Duration.ofSeconds(2),
                prefix));
        try {
            if (fill) {
                BenchPath.fillRollingWindow(store);
            }
            Map<String, List<Map<String, double[]>>> byPhase = new HashMap<>();
            long[] n = {0};
            for (int r = 0; r < rounds; r++) {
                byPhase.computeIfAbsent("no-op", x -> new ArrayList<>()).add(measure(redis, calls,
                        () -> noop.call()));
                List<String> leases = new ArrayList<>();
                byPhase.computeIfAbsent("reserve", x -> new ArrayList<>()).add(measure(redis, calls, () -> {
                    Instant now = Instant.now();
                    String lease = "p-" + (n[0]++);
                    leases.add(lease);
                    store.reserve(new ReserveCommand(BenchPath.TREE, lease, now, now.plusSeconds(600),
                            BenchPath.at(now), 500, 300));
                }));
                int[] i = {0};
                byPhase.computeIfAbsent("settle", x -> new ArrayList<>()).add(measure(redis, calls,
                        () -> store.settle(new SettleCommand(BenchPath.TREE, leases.get(i[0]++), Instant.now(), 420, 250,
                                false))));
            }
            System.out.printf("Redis-side time per call (INFO commandstats), median of %d rounds of %d calls%n",
                    rounds, calls);
            for (String phase : List.of("no-op", "reserve", "settle")) {
                print(phase, byPhase.get(phase));
            }
        } finally {
            store.close();
            noop.close();
        }
    }

    /** Runs {@code calls} calls and returns per command: {calls per op, µs per op}. */
    static Map<String, double[]> measure(RedisCommands<String, String> redis, int calls, Runnable op) {
        redis.configResetstat();
        double cpu = cpuSeconds(redis);
        for (int i = 0; i < calls; i++) {
            op.run();
        }
        Map<String, double[]> out = new TreeMap<>();
        out.put(CPU, new double[] {1, (cpuSeconds(redis) - cpu) * 1e6 / calls});
        for (String line : redis.info("commandstats").split("\r?\n")) {
            if (!line.startsWith("cmdstat_")) {
                continue;
            }
            String name = line.substring(8, line.indexOf(':'));
            if (name.startsWith("config") || name.startsWith("info") || name.startsWith("hello")) {
                continue;
            }
            Map<String, String> f = new HashMap<>();
            for (String kv : line.substring(line.indexOf(':') + 1).split(",")) {
                String[] p = kv.split("=");
                f.put(p[0], p[1]);
            }
            out.put(name, new double[] {Double.parseDouble(f.get("calls")) / calls,
                Double.parseDouble(f.get("usec")) / calls});
        }
        return out;
    }

    /** CPU time of Redis's main thread (INFO cpu), seconds: what a script costs Redis, queueing aside. */
    static double cpuSeconds(RedisCommands<String, String> redis) {
        double s = 0;
        for (String line : redis.info("cpu").split("\\r?\\n")) {
            if (line.startsWith("used_cpu_user_main_thread:") || line.startsWith("used_cpu_sys_main_thread:")) {
                s += Double.parseDouble(line.substring(line.indexOf(':') + 1));
            }
        }
        return s;
    }

    static void print(String phase, List<Map<String, double[]>> rounds) {
        Map<String, List<double[]>> all = new TreeMap<>();
        for (Map<String, double[]> r : rounds) {
            r.forEach((k, v) -> all.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
        }
        double[] script = median(all.getOrDefault("evalsha", List.of(new double[2])));
        double nested = 0;
        StringBuilder detail = new StringBuilder();
        for (Map.Entry<String, List<double[]>> e : all.entrySet()) {
            if (e.getKey().equals("evalsha") || e.getKey().equals(CPU)) {
                continue;
            }
            double[] m = median(e.getValue());
            nested += m[1];
            detail.append(String.format("  %s %.1f×/%.2fµs", e.getKey(), m[0], m[1]));
        }
        double cpu = median(all.get(CPU))[1];
        System.out.printf("%-8s %7.1f µs per call in Redis (commands inside: %.1f µs, script overhead: %.1f µs); "
                + "Redis CPU %.1f µs per call%n", phase, script[1], nested, script[1] - nested, cpu);
        System.out.printf("FIGURE redis.script.%s %.1fus-redis-time %.1fus-redis-cpu | load %s%n", phase, script[1],
                cpu, Stats.load());
        if (detail.length() > 0) {
            System.out.println("        " + detail);
        }
    }

    static double[] median(List<double[]> values) {
        double[] out = new double[2];
        for (int j = 0; j < 2; j++) {
            int jj = j;
            double[] s = values.stream().mapToDouble(v -> v[jj]).sorted().toArray();
            out[j] = s[s.length / 2];
        }
        return out;
    }

}
