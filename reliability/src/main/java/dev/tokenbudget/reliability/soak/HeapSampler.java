package dev.tokenbudget.reliability.soak;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway JVM's live heap over time: at each sample {@code jcmd <pid> GC.run} (a full
 * collection), then {@code jcmd <pid> GC.heap_info}'s used bytes, so what is measured is what
 * survives a GC, not garbage waiting for one; and the process's resident set from /proc.
 */
final class HeapSampler {

    /** One sample: seconds since the start of the load, heap used after GC, resident set (KiB, -1 unknown). */
    record Sample(long atSeconds, long heapUsedKib, long rssKib) {
    }

    private static final Pattern USED = Pattern.compile("total \\d+K, used (\\d+)K");

    private final long pid;
    private final String jcmd;

    HeapSampler(long pid) {
        this.pid = pid;
        this.jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    }

    /** Takes one sample now (a full GC of the gateway first). */
    Sample sample(long atSeconds) throws IOException, InterruptedException {
        run(jcmd, Long.toString(pid), "GC.run");
        String info = run(jcmd, Long.toString(pid), "GC.heap_info");
        Matcher m = USED.matcher(info);
        if (!m.find()) {
            throw new IOException("no heap figure in jcmd GC.heap_info: " + info);
        }
        return new Sample(atSeconds, Long.parseLong(m.group(1)), rss());
    }

    /** Fewer samples than this during the load are not judged. */
    static final int MIN_SAMPLES = 6;

    /**
     * Whether the heap grew over {@code during} (the samples taken under load, in order): the
     * median of the last third against the median of the middle third (the first third is
     * warm-up: JIT, pools, caches filling). Grown means more than 50 % and more than 32 MiB up,
     * which a leak over a long run is and noise is not. False with fewer than {@link #MIN_SAMPLES}.
     */
    static boolean grew(List<Sample> during) {
        if (during.size() < MIN_SAMPLES) {
            return false;
        }
        int third = during.size() / 3;
        long middle = median(during.subList(third, 2 * third));
        long last = median(during.subList(during.size() - third, during.size()));
        return last > middle * 3 / 2 && last - middle > 32 * 1024;
    }

    private static long median(List<Sample> s) {
        List<Long> used = new ArrayList<>();
        s.forEach(x -> used.add(x.heapUsedKib()));
        Collections.sort(used);
        return used.get(used.size() / 2);
    }

    private long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or the process is gone: no figure
        }
        return -1;
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(Duration.ofMinutes(2).toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
