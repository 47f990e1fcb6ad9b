package dev.tokenbudget.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A gateway ({@link ReliabilityGatewayApp}) in a JVM of its own, so a test can kill it as a crash
 * would ({@link #kill()}: SIGKILL, no shutdown hook, nothing flushed), stop it as an operator
 * would ({@link #stop()}: SIGTERM), and read everything it wrote ({@link #log()}: standard output
 * and error, from the first line of start-up).
 */
final class GatewayProcess implements AutoCloseable {

    private final Process process;
    private final Path output;
    private final int port;

    private GatewayProcess(Process process, Path output, int port) {
        this.process = process;
        this.output = output;
        this.port = port;
    }

    /** Starts a gateway with these Spring arguments ({@code --name=value}) and waits until it listens. */
    static GatewayProcess start(String... springArgs) throws IOException {
        return start(Map.of(), springArgs);
    }

    /**
     * Starts a gateway with these environment variables added to this JVM's and these Spring
     * arguments, and waits (up to four minutes: a cold JVM on a loaded machine) until it listens.
     */
    static GatewayProcess start(Map<String, String> environment, String... springArgs) throws IOException {
        Path out = Files.createTempFile("reliability-gateway-", ".log");
        out.toFile().deleteOnExit();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", cp, ReliabilityGatewayApp.class.getName(),
                "--server.port=0", "--server.address=127.0.0.1", "--spring.config.name=reliability-gateway"));
        cmd.addAll(List.of(springArgs));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(environment);
        Process p = pb.start();
        for (int i = 0; i < 24_000; i++) {
            String log = Files.readString(out);
            Optional<String> port = printed(log, ReliabilityGatewayApp.PORT_LINE);
            if (port.isPresent()) {
                return new GatewayProcess(p, out, Integer.parseInt(port.get()));
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("the gateway JVM exited: " + log);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("the gateway JVM did not start listening: " + Files.readString(out));
    }

    /** What follows {@code prefix} up to the end of its line, once the line is whole. */
    private static Optional<String> printed(String log, String prefix) {
        int at = log.indexOf(prefix);
        if (at < 0) {
            return Optional.empty();
        }
        int end = log.indexOf('\n', at);
        return end < 0 ? Optional.empty() : Optional.of(log.substring(at + prefix.length(), end).trim());
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    int port() {
        return port;
    }

    /** The admin API's port (a gateway started with {@code --rel.admin.port}); printed before the gateway listens. */
    int adminPort() throws IOException {
        return Integer.parseInt(printed(log(), ReliabilityGatewayApp.ADMIN_PORT_LINE)
                .orElseThrow(() -> new IllegalStateException("this gateway runs no admin API")));
    }

    /** Kills the JVM at once (SIGKILL) and waits until it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the gateway JVM survived SIGKILL");
        }
    }

    /** Stops the JVM as an operator would (SIGTERM: graceful shutdown, logs written), killing it after two minutes. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            kill();
        }
    }

    /** Everything the JVM wrote to standard output and error so far. */
    String log() throws IOException {
        return Files.readString(output);
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
