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
 * {@link EngineDecision}'s path on one thread, and for each call over the slow line records what
 * happened during it: a garbage collection, the thread's allocation crossing into a new TLAB-sized
 * chunk, or nothing the JVM reports (the OS, the CPU). Prints the percentiles, the share of slow
 * calls per cause and the bytes allocated per decision.
 *
 * <pre>java -cp "$CP" dev.tokenbudget.bench.engine.EngineTail [CALLS] [SLOW_NS]</pre>
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
            long gcBefore = gc0;
            for (int i = 0; i < calls; i++) {
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
            long[] sorted = took.clone();
            Arrays.sort(sorted);
            System.out.printf("EngineTail %,d calls, one thread, load %s%n", calls, Stats.load());
            System.out.printf("  p50 %,d ns  p90 %,d ns  p99 %,d ns  p99.9 %,d ns  max %,d ns%n", pct(sorted, 50),
                    pct(sorted, 90), pct(sorted, 99), pct(sorted, 99.9), sorted[calls - 1]);
            System.out.printf("  allocated %,d bytes per decision (the measuring harness adds none); %d GCs%n",
                    bytes / calls, gcRuns);
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

    private static long pct(long[] sorted, double p) {
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(sorted.length * p / 100))];
    }
}
