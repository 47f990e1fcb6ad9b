package dev.tokenbudget.apisix;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The plugin runner as APISIX starts it from {@code ext-plugin.cmd}: the runner's executable jar
 * in its own JVM, the plugin jar on its loader path, and the two environment variables APISIX
 * sets ({@code APISIX_LISTEN_ADDRESS}, {@code APISIX_CONF_EXPIRE_TIME}).
 */
final class RunnerProcess implements AutoCloseable {

    private final Process process;
    private final Path socket;
    private final Path log;

    private RunnerProcess(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    static RunnerProcess start(Path runnerJar, Path pluginJar, Map<String, String> env)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("tb-apisix-proc");
        Path socket = dir.resolve("runner.sock");
        Path log = dir.resolve("runner.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "-Xmx256m", "-Dloader.path=" + pluginJar,
                "-jar", runnerJar.toString()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("APISIX_LISTEN_ADDRESS", "unix:" + socket);
        pb.environment().put("APISIX_CONF_EXPIRE_TIME", "3600");
        pb.environment().putAll(env);
        RunnerProcess r = new RunnerProcess(pb.start(), socket, log);
        for (int i = 0; i < 2400; i++) {
            if (!r.process.isAlive()) {
                throw new IllegalStateException("the plugin runner exited with " + r.process.exitValue() + ":\n"
                        + r.log());
            }
            if (A6Client.accepts(r.socket)) {
                return r;
            }
            Thread.sleep(25);
        }
        r.close();
        throw new IllegalStateException("the plugin runner did not listen on " + socket + ":\n" + r.log());
    }


    A6Client client() {
        return new A6Client(socket);
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
