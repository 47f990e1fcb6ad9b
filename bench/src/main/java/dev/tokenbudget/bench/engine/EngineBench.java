package dev.tokenbudget.bench.engine;

import dev.tokenbudget.bench.Stats;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import org.openjdk.jmh.util.Statistics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link EngineDecision} with JMH in sample-time mode (so that percentiles come out), the
 * decision and its reference one after the other, at 1 and 2 threads, round after round (one
 * fork each, warmed up for {@value #WARMUP_SECONDS} s), and prints per round and the medians over the
 * rounds.
 *
 * <pre>bench/engine.sh [ROUNDS] [MEASURE_SECONDS]</pre>
 */
public final class EngineBench {

    /**
     * One-second warm-up iterations per fork. Two were enough on earlier machines; on session 10's
     * the decision's mean was still 1.0-1.3 us (10 us in the first) until the sixth, so two left the
     * JIT's work in the measurement (p99 16 us) where ten give 0.9 us (BENCHMARKS.md).
     */
    private static final int WARMUP_SECONDS = 10;

    /** Per case: per round {mean ns, p50 ns, p99 ns, p99.9 ns, ops/s}. */
    private final Map<String, List<double[]>> results = new LinkedHashMap<>();

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        System.out.printf("JMH sample time, %d rounds, %d cores, load %s%n", rounds,
                Runtime.getRuntime().availableProcessors(), Stats.load());
        new EngineBench().run(rounds, seconds);
    }

    private void run(int rounds, int seconds) throws Exception {
        for (int r = 1; r <= rounds; r++) {
            for (int threads : new int[] {1, 2}) {
                for (String method : new String[] {"reserveSettle", "mapIncrement"}) {
                    double[] m = once(method, threads, seconds);
                    String name = method + " x" + threads;
                    results.computeIfAbsent(name, k -> new ArrayList<>()).add(m);
                    System.out.printf("round %d %-18s mean %7.0f ns p50 %6.0f ns p99 %6.0f ns p99.9 %7.0f ns "
                            + "%,12.0f ops/s | load %s%n", r, name, m[0], m[1], m[2], m[3], m[4], Stats.load());
                }
            }
        }
        System.out.println();
        System.out.println("| case (median of rounds) | mean ns | p50 ns | p99 ns | p99.9 ns | ops/s |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        results.forEach((name, rs) -> System.out.printf("| %s | %.0f | %.0f | %.0f | %.0f | %,.0f |%n", name,
                med(rs, 0), med(rs, 1), med(rs, 2), med(rs, 3), med(rs, 4)));
        for (int threads : new int[] {1, 2}) {
            List<double[]> d = results.get("reserveSettle x" + threads);
            List<double[]> ref = results.get("mapIncrement x" + threads);
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < d.size(); i++) {
                ratios.add(d.get(i)[4] / ref.get(i)[4]);
            }
            System.out.printf("FIGURE engine.decision.threads%d p50=%.0fns p99=%.0fns %,.0f/s | ref map-increment "
                    + "p50=%.0fns p99=%.0fns %,.0f/s | ratio %.3f | load %s%n", threads, med(d, 1), med(d, 2),
                    med(d, 4), med(ref, 1), med(ref, 2), med(ref, 4), Stats.median(ratios), Stats.load());
        }
    }

    private static double med(List<double[]> rs, int i) {
        return Stats.median(rs.stream().map(a -> a[i]).toList());
    }

    private static double[] once(String method, int threads, int seconds) throws Exception {
        Options opt = new OptionsBuilder()
                .include(EngineDecision.class.getName() + "\\." + method + "$")
                .mode(Mode.SampleTime)
                .timeUnit(TimeUnit.NANOSECONDS)
                .threads(threads)
                .forks(1)
                .warmupIterations(WARMUP_SECONDS)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(seconds)
                .measurementTime(TimeValue.seconds(1))
                .verbosity(VerboseMode.SILENT)
                .build();
        RunResult result = new Runner(opt).runSingle();
        Statistics s = result.getPrimaryResult().getStatistics();
        double mean = s.getMean();
        return new double[] {mean, s.getPercentile(50), s.getPercentile(99), s.getPercentile(99.9),
            threads * 1e9 / mean};
    }
}
