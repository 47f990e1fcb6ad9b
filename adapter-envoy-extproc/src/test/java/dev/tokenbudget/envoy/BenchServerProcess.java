package dev.tokenbudget.envoy;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * An {@link ExtProcBenchServer} in a JVM of its own, started by the benchmark with this JVM's java
 * and class path: its port, and its CPU time and context switches as the operating system counts
 * them (Linux /proc), so that the load client's own work is not among them.
 */
final class BenchServerProcess implements AutoCloseable {

    private final Process process;
    private final int port;

    private BenchServerProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static BenchServerProcess start(String processor, int handlerThreads, String redisUri) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xms512m", "-Xmx512m", // one fixed heap for every processor
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-Dorg.slf4j.simpleLogger.log.tokenbudget.envoy.streams=warn",
                "-cp", System.getProperty("java.class.path")));
        // more options for the server JVM (a profiler: -XX:StartFlightRecording=filename=/tmp/s-%p.jfr)
        String extra = System.getenv("EXTPROC_SERVER_JAVA_OPTS");
        if (extra != null && !extra.isBlank()) {
            cmd.addAll(List.of(extra.trim().split("\\s+")));
        }
        cmd.addAll(List.of(ExtProcBenchServer.class.getName(), processor, Integer.toString(handlerThreads)));
        if (redisUri != null) {
            cmd.add(redisUri);
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.startsWith("port=")) {
                return new BenchServerProcess(p, Integer.parseInt(line.substring(5).trim()));
            }
        }
        p.destroyForcibly();
        throw new IOException("the benchmark server (" + processor + ") exited before it listened");
    }

    int port() {
        return port;
    }

    /** The server process's CPU time so far, all threads (at the operating system's tick). */
    long cpuNanos() {
        return process.toHandle().info().totalCpuDuration().orElse(Duration.ZERO).toNanos();
    }

    /**
     * Context switches (voluntary and not) of the server's threads alive now, from
     * /proc/PID/task/N/status; 0 where there is no /proc. A thread's count is charged from its start.
     */
    long contextSwitches() {
        File[] tasks = new File("/proc/" + process.pid() + "/task").listFiles();
        long sum = 0;
        if (tasks == null) {
            return sum;
        }
        for (File t : tasks) {
            try {
                for (String line : Files.readAllLines(t.toPath().resolve("status"))) {
                    if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                        sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the thread ended while being read
            }
        }
        return sum;
    }

    /**
     * CPU ticks (USER_HZ, 100 a second on Linux) of the server's threads alive now, by what they
     * do, from /proc/PID/task/N/stat; empty where there is no /proc. A thread's ticks count from
     * its start, so a difference of two readings charges a thread started in between wholly.
     */
    Map<String, Long> ticksByThreadKind() {
        Map<String, Long> ticks = new TreeMap<>();
        File[] tasks = new File("/proc/" + process.pid() + "/task").listFiles();
        if (tasks == null) {
            return ticks;
        }
        for (File t : tasks) {
            try {
                String stat = Files.readString(t.toPath().resolve("stat"));
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks.merge(kind(name), Long.parseLong(f[11]) + Long.parseLong(f[12]), Long::sum);
            } catch (IOException | RuntimeException e) {
                // the thread ended while being read
            }
        }
        return ticks;
    }

    /** What a thread does, from its name (the first 15 characters, as Linux keeps them). */
    private static String kind(String name) {
        if (name.startsWith("tokenbudget-ext")) {
            return "callbacks";
        }
        if (name.startsWith("grpc-")) {
            return "gRPC I/O";
        }
        if (name.startsWith("lettuce-")) {
            return "Redis I/O";
        }
        if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
            return "JIT";
        }
        if (name.startsWith("GC Thread") || name.startsWith("G1 ") || name.startsWith("VM Thread")) {
            return "GC and VM";
        }
        return "other";
    }

    /** Closes the server's standard input (it drains and exits) and waits for it. */
    @Override
    public void close() throws Exception {
        process.getOutputStream().close();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
