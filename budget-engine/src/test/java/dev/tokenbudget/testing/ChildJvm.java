package dev.tokenbudget.testing;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JVM a test starts on its own (a gateway it may kill, the APISIX plugin runner, an adapter's
 * executable jar), everything it writes to standard output and error in a log file: waited on
 * until it is ready, and stopped as an operator would (SIGTERM) or as a crash would (SIGKILL).
 */
public final class ChildJvm implements AutoCloseable {

    private static final long POLL_MS = 10;

    private final Process process;
    private final Path log;

    private ChildJvm(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts this JVM's {@code java} with {@code args}, {@code env} added to this JVM's environment. */
    public static ChildJvm start(List<String> args, Map<String, String> env, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return new ChildJvm(pb.start(), log);
    }

    /**
     * Waits (polling every 10 ms, up to {@code limit}) until the log holds a match of {@code pattern},
     * and returns its first group. A JVM that exits first or is not ready in time fails the test with
     * its log, and is killed.
     */
    public String awaitPrinted(String what, Duration limit, Pattern pattern) throws IOException {
        return poll(what, limit, () -> printed(pattern));
    }

    /** As {@link #awaitPrinted}, until {@code ready} holds (a socket accepts, say). */
    public void await(String what, Duration limit, BooleanSupplier ready) throws IOException {
        poll(what, limit, () -> ready.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty());
    }

    private <T> T poll(String what, Duration limit, Supplier<Optional<T>> ready) throws IOException {
        for (long i = limit.toMillis() / POLL_MS; i > 0; i--) {
            Optional<T> value = ready.get();
            if (value.isPresent()) {
                return value.get();
            }
            if (!process.isAlive()) {
                throw new IllegalStateException(what + ": the JVM exited with " + process.exitValue() + ":\n" + log());
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for " + what);
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException(what + ": not ready within " + limit.toSeconds() + " s:\n" + log());
    }

    /** The first group of the first match of {@code pattern} in the log so far. */
    public Optional<String> printed(Pattern pattern) {
        Matcher m = pattern.matcher(log());
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** Everything the JVM wrote to standard output and error so far. */
    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /**
     * Stops the JVM as an operator would (SIGTERM: shutdown hooks run, logs are written), killing it
     * when it has not exited after {@code grace}; whether it exited by itself.
     */
    public boolean stop(Duration grace) throws InterruptedException {
        process.destroy();
        if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            return true;
        }
        kill();
        return false;
    }

    /** Kills the JVM at once (SIGKILL: no shutdown hook, nothing flushed) and waits until it is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the JVM survived SIGKILL");
        }
    }

    /** The exit code of a JVM that has exited. */
    public int exitValue() {
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
