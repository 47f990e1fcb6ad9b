package dev.tokenbudget.bench.engine;

import dev.tokenbudget.bench.Stats;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.usage.TokenUsage;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;

/**
 * Where the engine's slow decisions come from (not a test): times every reserve + settle of
 * {@link EngineDecision}'s path on one thread, and for each call over the slow line records whether
 * a garbage collection ran during it and whether reserve or settle was the slow half. Prints the
 * percentiles, the bytes allocated per decision, the slow calls per cause and per tenth of the run
 * (spread evenly: the code's; bunched: the machine's, the thread was off the CPU), with the JVM
 * uptime at each tenth to line them up with {@code -XX:+PrintCompilation}.
 *
 * <pre>bench/engine.sh tail [CALLS] [SLOW_NS]</pre>
 */
public final class EngineTail {

    private static final TokenUsage USAGE = TokenUsage.of(420, 250);

    public static void main(String[] args) {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
        long slowNs = args.length > 1 ? Long.parseLong(args[1]) : 5_000;
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans();
        try (BudgetEngine engine = BudgetEngine.inMemory(ConfigLoader.parse(EngineDecision.CONFIG))) {
            BudgetRequest request = new BudgetRequest(engine.authenticate("sk-bench").orElseThrow(), null, null,
                    "gpt-4o", 500, 300);
            for (int i = 0; i < 500_000; i++) {
                engine.settle(engine.reserve(request), USAGE);
            }
            long[] took = new long[calls];
            long[] reserveTook = new long[calls];
            long gcSlow = 0;
            long other = 0;
            long reserveSlow = 0;
            long a0 = threads.getCurrentThreadAllocatedBytes();
            long gc0 = gcCount(gcs);
            long gcMs0 = gcMillis(gcs);
            long gcBefore = gc0;
            // JVM uptime at the start of each tenth, to line bursts up with -XX:+PrintCompilation's timestamps
            long uptime0 = ManagementFactory.getRuntimeMXBean().getUptime();
            long nano0 = System.nanoTime();
            long[] tenthStart = new long[10];
            for (int i = 0; i < calls; i++) {
                if (i % (calls / 10) == 0 && i / (calls / 10) < 10) {
                    tenthStart[i / (calls / 10)] = System.nanoTime();
                }
                long t0 = System.nanoTime();
                Ticket t = engine.reserve(request);
                long t1 = System.nanoTime();
                engine.settle(t, USAGE);
                long t2 = System.nanoTime();
                took[i] = t2 - t0;
                reserveTook[i] = t1 - t0;
                if (took[i] > slowNs) {
                    long gc = gcCount(gcs);
                    if (gc != gcBefore) {
                        gcSlow++;
                        gcBefore = gc;
                    } else {
                        other++;
                    }
                    if (reserveTook[i] > took[i] / 2) {
                        reserveSlow++;
                    }
                }
            }
            long bytes = threads.getCurrentThreadAllocatedBytes() - a0;
            long gcRuns = gcCount(gcs) - gc0;
            long gcMs = gcMillis(gcs) - gcMs0;
            long[] sorted = took.clone();
            Arrays.sort(sorted);
            System.out.printf("EngineTail %,d calls, one thread, load %s%n", calls, Stats.load());
            System.out.printf("  p50 %,d ns  p90 %,d ns  p99 %,d ns  p99.9 %,d ns  max %,d ns%n", pct(sorted, 50),
                    pct(sorted, 90), pct(sorted, 99), pct(sorted, 99.9), sorted[calls - 1]);
            System.out.printf("  allocated %,d bytes per decision (the thread's allocated bytes over the run); "
                    + "%d GCs, %,d ms in them%n", bytes / calls, gcRuns, gcMs);
            // slow calls spread evenly over the run point at the code; bunched in some tenths, at the machine
            StringBuilder tenths = new StringBuilder();
            for (int part = 0; part < 10; part++) {
                long n = 0;
                for (int i = part * (calls / 10); i < (part + 1) * (calls / 10); i++) {
                    n += took[i] > slowNs ? 1 : 0;
                }
                tenths.append(part == 0 ? "" : " ").append(n).append(" (from ")
                        .append(uptime0 + (tenthStart[part] - nano0) / 1_000_000).append(" ms)");
            }
            System.out.printf("  slow calls per tenth of the run (from JVM uptime): %s%n", tenths);
            long slow = gcSlow + other;
            System.out.printf("  slow calls (> %,d ns): %,d (%.3f%%): %,d with a GC during the call, %,d without; "
                    + "%,d of them slow in reserve%n", slowNs, slow, 100.0 * slow / calls, gcSlow, other, reserveSlow);
        }
    }

    private static long gcCount(List<GarbageCollectorMXBean> gcs) {
        long n = 0;
        for (GarbageCollectorMXBean g : gcs) {
            n += g.getCollectionCount();
        }
        return n;
    }

    private static long gcMillis(List<GarbageCollectorMXBean> gcs) {
        long ms = 0;
        for (GarbageCollectorMXBean g : gcs) {
            ms += g.getCollectionTime();
        }
        return ms;
    }

    private static long pct(long[] sorted, double p) {
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(sorted.length * p / 100))];
    }
}
