package dev.tokenbudget.bench.gateway;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time a gateway process has used (user + system, all its threads), from
 * {@code /proc/<pid>/stat}: read before and after a run, the difference over the requests served
 * is the gateway's CPU per request, a figure that load on the rest of the machine moves far less
 * than throughput. Linux only; elsewhere {@link #cpuNanos} is -1 and the figure is left out.
 */
final class GatewayCpu {

    /** Clock ticks per second of {@code /proc} times: 100 on every Linux this runs on (USER_HZ). */
    private static final long TICKS_PER_SECOND = 100;

    private GatewayCpu() {
    }

    /** CPU time the process has used so far, in nanoseconds, or -1 when unknown. */
    static long cpuNanos(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // fields after the command name (which may hold spaces) start after the last ')'
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
            return ticks * (1_000_000_000L / TICKS_PER_SECOND);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** µs of CPU per request between two readings, or NaN when either is unknown. */
    static double microsPer(long before, long after, double requests) {
        return before < 0 || after < 0 || requests <= 0 ? Double.NaN : (after - before) / 1e3 / requests;
    }
}
