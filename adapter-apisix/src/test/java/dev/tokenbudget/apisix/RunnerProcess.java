package dev.tokenbudget.apisix;

import dev.tokenbudget.testing.ChildJvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The plugin runner as APISIX starts it from {@code ext-plugin.cmd}: the runner's executable jar
 * in its own JVM, the plugin jar on its loader path, and the two environment variables APISIX
 * sets ({@code APISIX_LISTEN_ADDRESS}, {@code APISIX_CONF_EXPIRE_TIME}).
 */
final class RunnerProcess implements AutoCloseable {

    private final ChildJvm jvm;
    private final Path socket;

    private RunnerProcess(ChildJvm jvm, Path socket) {
        this.jvm = jvm;
        this.socket = socket;
    }

    static RunnerProcess start(Path runnerJar, Path pluginJar, Map<String, String> env) throws IOException {
        return start(runnerJar, pluginJar, env, List.of(), Files.createTempDirectory("tb-apisix-proc"));
    }

    /**
     * @param properties extra {@code -D} options, such as the settle port
     * @param dir        where the socket and the log go; a runner started again in the same
     *                   directory serves the same socket path, as APISIX's restarted runner does
     */
    static RunnerProcess start(Path runnerJar, Path pluginJar, Map<String, String> env, List<String> properties,
                               Path dir) throws IOException {
        Path socket = dir.resolve("runner.sock");
        Files.deleteIfExists(socket);
        Map<String, String> all = new HashMap<>(Map.of("APISIX_LISTEN_ADDRESS", "unix:" + socket,
                "APISIX_CONF_EXPIRE_TIME", "3600"));
        all.putAll(env);
        List<String> args = new java.util.ArrayList<>(List.of("-Xmx256m", "-Dloader.path=" + pluginJar));
        args.addAll(properties);
        args.addAll(List.of("-jar", runnerJar.toString()));
        ChildJvm jvm = ChildJvm.start(args, all, dir.resolve("runner-" + System.nanoTime() + ".log"));
        jvm.await("the plugin runner listening on " + socket, Duration.ofSeconds(60), () -> A6Client.accepts(socket));
        return new RunnerProcess(jvm, socket);
    }

    Path socket() {
        return socket;
    }

    /** Kills the runner as a crash would (SIGKILL). */
    void kill() throws InterruptedException {
        jvm.kill();
    }

    A6Client client() {
        return new A6Client(socket);
    }

    String log() {
        return jvm.log();
    }

    @Override
    public void close() throws InterruptedException {
        jvm.stop(Duration.ofSeconds(30));
    }
}
