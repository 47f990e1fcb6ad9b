package dev.tokenbudget.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Medians, percentiles and the machine's load, as every benchmark here reports them. */
public final class Stats {

    private Stats() {
    }

    /** The {@code p}-th percentile (0-100) of {@code sorted} (ascending), nearest rank. */
    public static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }

    /** The median of {@code values} (the lower middle one for an even count). */
    public static double median(List<Double> values) {
        double[] s = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s.length == 0 ? 0 : s[(s.length - 1) / 2];
    }

    /** Sorted copy of many latency arrays merged. */
    public static long[] merged(List<long[]> parts) {
        long[] all = parts.stream().flatMapToLong(Arrays::stream).toArray();
        Arrays.sort(all);
        return all;
    }

    /** The 1, 5 and 15 minute load averages, as /proc/loadavg has them ("?" elsewhere). */
    public static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }
}
