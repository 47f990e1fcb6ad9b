package dev.tokenbudget.quickstart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.console.admin.ProcessTree;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/quickstart} as a user runs it, in its own process: on free loopback ports (port 0
 * for the gateway and the admin server, the bound ones read from what it prints), with the
 * bundled fake provider, and with the admin token it generates and prints. Its output goes to a
 * log file. Closing it stops it (SIGTERM, as Ctrl-C would), then ends whatever of its process
 * tree is left.
 */
final class RunningQuickstart implements AutoCloseable {

    /** A bound on a quickstart that never comes up; bin/quickstart first rebuilds a stale jar. */
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(300);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern GATEWAY = Pattern.compile("(?m)^  gateway +(http://127\\.0\\.0\\.1:\\d+)\\s");
    private static final Pattern ADMIN = Pattern.compile("(?m)^  admin +(http://127\\.0\\.0\\.1:\\d+/)\\s");
    private static final Pattern TOKEN = Pattern.compile("(?m)^TOKENBUDGET_ADMIN_TOKEN=(\\S+)$");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path log;
    private final Thread onExit;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private URI gateway;
    private URI admin;
    private String token;

    private RunningQuickstart(Process process, Path log) {
        this.process = process;
        this.log = log;
        // a test JVM that is stopped half-way still ends the quickstart
        this.onExit = new Thread(() -> ProcessTree.destroy(process), "quickstart-reaper");
        Runtime.getRuntime().addShutdownHook(onExit);
    }

    /** Starts {@code root/bin/quickstart} and waits until it prints that it is running. */
    static RunningQuickstart start(Path root, Path log) throws IOException, InterruptedException {
        Path script = root.resolve("bin/quickstart");
        if (!Files.isExecutable(script)) {
            throw new AssertionError("no executable " + script);
        }
        ProcessBuilder pb = new ProcessBuilder(script.toString(), "--server.port=0", "--quickstart.admin.port=0",
                "--quickstart.openai-url=fake", "--quickstart.anthropic-url=fake")
                .directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        // the quickstart generates and prints a token when none is set, as on a user's first start
        env.remove("TOKENBUDGET_ADMIN_TOKEN");
        env.remove("QUICKSTART_JAVA_OPTS");
        RunningQuickstart q = new RunningQuickstart(pb.start(), log);
        try {
            q.awaitReady();
            return q;
        } catch (IOException | RuntimeException | Error e) {
            q.close();
            throw e;
        }
    }

    private void awaitReady() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String out = output();
            Matcher g = GATEWAY.matcher(out);
            Matcher a = ADMIN.matcher(out);
            Matcher t = TOKEN.matcher(out);
            if (out.contains("tokenbudget quickstart is running") && g.find() && a.find()) {
                if (!t.find()) {
                    throw new AssertionError("the quickstart started without TOKENBUDGET_ADMIN_TOKEN but printed no "
                            + "generated token:\n" + out);
                }
                gateway = URI.create(g.group(1));
                admin = URI.create(a.group(1));
                token = t.group(1);
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("bin/quickstart exited with " + process.exitValue() + ":\n" + out);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("bin/quickstart did not report that it is running within "
                + READY_TIMEOUT.toSeconds() + " s:\n" + output());
    }

    /** Everything it printed so far. */
    String output() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** The gateway, e.g. {@code http://127.0.0.1:43263}. */
    URI gateway() {
        return gateway;
    }

    /** The admin API and dashboard, e.g. {@code http://127.0.0.1:46635/}. */
    URI admin() {
        return admin;
    }

    /** The admin token it generated and printed. */
    String token() {
        return token;
    }

    /** {@code GET} on the admin API with the token; the JSON of a 200, else an error with the body. */
    JsonNode adminGet(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(admin.resolve(path))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError("GET " + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return JSON.readTree(r.body());
    }

    /** Stops it as Ctrl-C would, then ends what is left of its process tree. */
    @Override
    public void close() {
        try {
            if (!ProcessTree.stop(process, STOP_TIMEOUT)) {
                System.err.println("bin/quickstart did not stop within " + STOP_TIMEOUT.toSeconds()
                        + " s of SIGTERM: killed it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ProcessTree.destroy(process);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onExit);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs anyway
            }
        }
    }
}
