package dev.tokenbudget.bench.estimate;

import dev.tokenbudget.bench.Stats;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link RequestFactsCost} with JMH (average time, one fork per case, with JMH's GC profiler
 * for bytes allocated per request), the scan and the tree one after the other per prompt size,
 * round after round, and prints the cost per KiB of prompt: medians over rounds, ratios per round.
 *
 * <pre>bench/request-facts.sh [ROUNDS] [MEASURE_SECONDS]</pre>
 */
public final class RequestFactsBench {

    private static final int[] SIZES = {1, 8, 64};

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        System.out.printf("JMH average time + gc profiler, %d rounds, %d cores, load %s%n", rounds,
                Runtime.getRuntime().availableProcessors(), Stats.load());
        // per "method kb": per round {µs per request, bytes allocated per request}
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        for (int r = 1; r <= rounds; r++) {
            for (int kb : SIZES) {
                for (String method : new String[] {"scan", "tree"}) {
                    double[] m = once(method, kb, seconds);
                    results.computeIfAbsent(method + " " + kb, k -> new ArrayList<>()).add(m);
                    System.out.printf("round %d %-4s %3d KiB %9.2f µs/request %7.2f µs/KiB %,10.0f B/request | load %s%n",
                            r, method, kb, m[0], m[0] / kb, m[1], Stats.load());
                }
            }
        }
        System.out.println();
        System.out.println("| prompt | scan µs/KiB | tree µs/KiB | scan B/request | tree B/request | scan / tree (time) |");
        System.out.println("|---:|---:|---:|---:|---:|---:|");
        for (int kb : SIZES) {
            List<double[]> s = results.get("scan " + kb);
            List<double[]> t = results.get("tree " + kb);
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < s.size(); i++) {
                ratios.add(s.get(i)[0] / t.get(i)[0]);
            }
            System.out.printf("| %d KiB | %.2f | %.2f | %,.0f | %,.0f | %.3f |%n", kb, med(s, 0) / kb, med(t, 0) / kb,
                    med(s, 1), med(t, 1), Stats.median(ratios));
            System.out.printf("FIGURE estimate.request-facts.%dkib %.2fus/KiB %,.0fB/request | ref Jackson tree "
                    + "%.2fus/KiB %,.0fB/request | ratio %.3f | load %s%n", kb, med(s, 0) / kb, med(s, 1),
                    med(t, 0) / kb, med(t, 1), Stats.median(ratios), Stats.load());
        }
    }

    private static double med(List<double[]> rs, int i) {
        return Stats.median(rs.stream().map(a -> a[i]).toList());
    }

    /** One fork: {µs per request, bytes allocated per request}. */
    private static double[] once(String method, int kb, int seconds) throws Exception {
        ChainedOptionsBuilder opt = new OptionsBuilder()
                .include(RequestFactsCost.class.getName() + "\\." + method + "$")
                .param("kb", Integer.toString(kb))
                .mode(Mode.AverageTime)
                .timeUnit(TimeUnit.MICROSECONDS)
                .forks(1)
                .warmupIterations(5) // the tokenizer's tables load on first use; C2 takes its time on a busy machine
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(seconds)
                .measurementTime(TimeValue.seconds(1))
                .addProfiler(GCProfiler.class)
                .verbosity(VerboseMode.SILENT);
        RunResult result = new Runner(opt.build()).runSingle();
        Map<String, Result> secondary = result.getSecondaryResults();
        Result alloc = secondary.get("gc.alloc.rate.norm");
        return new double[] {result.getPrimaryResult().getScore(), alloc == null ? Double.NaN : alloc.getScore()};
    }
}
