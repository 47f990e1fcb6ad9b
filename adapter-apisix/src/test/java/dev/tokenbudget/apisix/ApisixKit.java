package dev.tokenbudget.apisix;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Apache APISIX 3.9.1 for the integration tests, run by an {@code apisix-kit} (its own Lua
 * code on Debian's nginx; see {@code ../shared/apisix/README.md}): the one in
 * {@code TOKENBUDGET_APISIX_HOME} when set, else the kit beside the checkout. Without either the
 * calling test is skipped with a message, or fails when {@code CI} is set. Each instance works in
 * its own directory ({@code APISIX_KIT_HOME}), so it never meets another test's or a person's
 * APISIX.
 */
final class ApisixKit implements AutoCloseable {

    private final Path kit;
    private final Path home;
    private final Map<String, String> env;
    private boolean running;

    private ApisixKit(Path kit, Path home, Map<String, String> env) {
        this.kit = kit;
        this.home = home;
        this.env = env;
    }

    /**
     * The kit, installed (fast when it already is) into {@code home}.
     *
     * @param env what APISIX's nginx gets in its environment (the variables its config lists in
     *            {@code nginx_config.envs} and apisix.yaml's {@code ${{...}}} read)
     */
    static ApisixKit install(Path home, Map<String, String> env) throws IOException, InterruptedException {
        Path kit = locate();
        ApisixKit k = new ApisixKit(kit, home, env);
        k.run(600, "install");
        return k;
    }

    /** The kit's directory; skips the calling test (fails it under CI) when there is none. */
    static Path locate() {
        String own = System.getenv("TOKENBUDGET_APISIX_HOME");
        List<Path> tried = new ArrayList<>();
        if (own != null && !own.isBlank()) {
            tried.add(Path.of(own));
        } else {
            tried.add(Path.of(System.getProperty("tokenbudget.apisix.kit", "../../shared/apisix")));
        }
        for (Path p : tried) {
            if (Files.isExecutable(p.resolve("apisix-kit"))) {
                return p.toAbsolutePath().normalize();
            }
        }
        String message = "no APISIX for the integration tests: neither TOKENBUDGET_APISIX_HOME nor the kit at "
                + tried + " holds an executable apisix-kit (see docs/apisix.md, \"Tests\")";
        if (System.getenv("CI") != null) {
            throw new IllegalStateException(message);
        }
        System.err.println("skipped: " + message); // surefire's report shows an aborted class as 0 tests
        Assumptions.abort(message);
        return null;
    }

    /** Starts APISIX with these files (written as given) and returns its base URL. */
    String start(Path config, Path routes, Path runnerSocket) throws IOException, InterruptedException {
        String out = run(120, "start", "--config", config.toString(), "--routes", routes.toString(),
                "--runner-sock", runnerSocket.toString());
        running = true;
        String[] lines = out.strip().split("\n");
        return lines[lines.length - 1].strip();
    }

    /** The end of APISIX's error.log, for failure messages. */
    String errorLog() {
        try {
            Path log = home.resolve("logs/error.log");
            if (!Files.exists(log)) {
                return "(no error.log)";
            }
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(error.log unreadable: " + e + ")";
        }
    }

    private String run(int seconds, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(kit.resolve("apisix-kit").toString()));
        cmd.addAll(List.of(args));
        Files.createDirectories(home);
        Path err = home.resolve("kit-" + args[0] + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        pb.environment().put("APISIX_KIT_HOME", home.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("apisix-kit " + args[0] + " did not finish in " + seconds + " s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("apisix-kit " + String.join(" ", args) + " failed (" + p.exitValue()
                    + "):\n" + Files.readString(err));
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (running) {
            running = false;
            run(60, "stop");
        }
    }
}
