package dev.tokenbudget.reliability.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The quickstart gateway ({@code tokenbudget-quickstart.jar}) in a JVM of its own, its output in a
 * file, and its admin API read with the token it was given.
 */
final class QuickstartProcess implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path log;
    private final String adminUrl;
    private final String adminToken;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private QuickstartProcess(Process process, Path log, String adminUrl, String adminToken) {
        this.process = process;
        this.log = log;
        this.adminUrl = adminUrl;
        this.adminToken = adminToken;
    }

    /** Starts {@code java [javaOpts] -jar jar args} with {@code env} added, output to {@code log}. */
    static QuickstartProcess start(Path jar, List<String> javaOpts, Map<String, String> env, List<String> args,
                                   Path log, int adminPort) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(javaOpts);
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return new QuickstartProcess(pb.start(), log, "http://127.0.0.1:" + adminPort,
                env.get("TOKENBUDGET_ADMIN_TOKEN"));
    }

    /**
     * Waits (up to four minutes) until the admin API answers and the gateway accepts connections
     * (the admin API starts while the application context is built, the gateway's server last).
     */
    void awaitReady(int gatewayPort) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the quickstart exited: " + Files.readString(log));
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), gatewayPort)) {
                get("/v1/budgets");
                return;
            } catch (IOException notYet) {
                Thread.sleep(250);
            }
        }
        throw new IOException("the quickstart did not start within 4 minutes: " + Files.readString(log));
    }

    /** An admin API resource as JSON; IOException unless 200. */
    JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(adminUrl + path))
                .header("Authorization", "Bearer " + adminToken).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + path + ": " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    /** SIGTERM, then SIGKILL after a minute. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(60, TimeUnit.SECONDS);
        }
    }
}
