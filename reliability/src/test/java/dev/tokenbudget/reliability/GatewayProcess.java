package dev.tokenbudget.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A gateway ({@link ReliabilityGatewayApp}) in a JVM of its own, so a test can kill it as a crash
 * would ({@link #kill()}: SIGKILL, no shutdown hook, nothing flushed).
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
        Path out = Files.createTempFile("reliability-gateway-", ".log");
        out.toFile().deleteOnExit();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", cp, ReliabilityGatewayApp.class.getName(),
                "--server.port=0", "--server.address=127.0.0.1", "--spring.config.name=reliability-gateway"));
        cmd.addAll(List.of(springArgs));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        for (int i = 0; i < 24_000; i++) {
            String log = Files.readString(out);
            int at = log.indexOf(ReliabilityGatewayApp.PORT_LINE);
            if (at >= 0) {
                int end = log.indexOf('\n', at);
                if (end > 0) {
                    String port = log.substring(at + ReliabilityGatewayApp.PORT_LINE.length(), end).trim();
                    return new GatewayProcess(p, out, Integer.parseInt(port));
                }
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

    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Kills the JVM at once (SIGKILL) and waits until it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the gateway JVM survived SIGKILL");
        }
    }

    String log() throws IOException {
        return Files.readString(output);
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
