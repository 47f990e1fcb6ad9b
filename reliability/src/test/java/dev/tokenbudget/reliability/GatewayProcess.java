package dev.tokenbudget.reliability;

import dev.tokenbudget.testing.ChildJvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A gateway ({@link ReliabilityGatewayApp}) in a JVM of its own, so a test can kill it as a crash
 * would ({@link #kill()}: SIGKILL, no shutdown hook, nothing flushed), stop it as an operator
 * would ({@link #stop()}: SIGTERM), and read everything it wrote ({@link #log()}: standard output
 * and error, from the first line of start-up).
 */
final class GatewayProcess implements AutoCloseable {

    private static final Pattern PORT = portLine(ReliabilityGatewayApp.PORT_LINE);
    private static final Pattern ADMIN_PORT = portLine(ReliabilityGatewayApp.ADMIN_PORT_LINE);

    private final ChildJvm jvm;
    private final int port;

    private GatewayProcess(ChildJvm jvm, int port) {
        this.jvm = jvm;
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
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> args = new ArrayList<>(List.of("-Xmx256m", "-cp", cp, ReliabilityGatewayApp.class.getName(),
                "--server.port=0", "--server.address=127.0.0.1", "--spring.config.name=reliability-gateway"));
        args.addAll(List.of(springArgs));
        ChildJvm jvm = ChildJvm.start(args, environment, out);
        String port = jvm.awaitPrinted("the gateway JVM listening", Duration.ofMinutes(4), PORT);
        return new GatewayProcess(jvm, Integer.parseInt(port));
    }

    /** The port printed after {@code prefix}, once its line is whole. */
    private static Pattern portLine(String prefix) {
        return Pattern.compile(Pattern.quote(prefix) + "(\\d+)\\R");
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    int port() {
        return port;
    }

    /** The admin API's port (a gateway started with {@code --rel.admin.port}); printed before the gateway listens. */
    int adminPort() {
        return Integer.parseInt(jvm.printed(ADMIN_PORT)
                .orElseThrow(() -> new IllegalStateException("this gateway runs no admin API")));
    }

    /** Kills the JVM at once (SIGKILL) and waits until it is gone. */
    void kill() throws InterruptedException {
        jvm.kill();
    }

    /** Stops the JVM as an operator would (SIGTERM: graceful shutdown, logs written), killing it after two minutes. */
    void stop() throws InterruptedException {
        jvm.stop(Duration.ofMinutes(2));
    }

    /** Everything the JVM wrote to standard output and error so far. */
    String log() {
        return jvm.log();
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
