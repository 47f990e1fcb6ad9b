package dev.tokenbudget.envoy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line refuses what it cannot run, with exit code 2 and a sentence saying why. */
class ExtProcMainTest {

    private static final String VALID = "budgets:\n  - id: org\n    windows: [{ period: month, limits: { total: 1M } }]\n";

    @TempDir
    Path dir;

    @Test
    void redisStoreWithoutAUriIsRefusedRatherThanGuessed() throws Exception {
        Path cfg = config(VALID);
        Run r = run("--config", cfg.toString(), "--grpc-port", "0", "--store", "redis");
        assertThat(r.code).isEqualTo(2);
        assertThat(r.err).contains("store.redis.uri").contains("--redis-uri");
    }

    @Test
    void invalidConfigIsReportedWithThePathOfTheBadField() throws Exception {
        Path cfg = config("budgets:\n  - id: x\n    windows: [{ period: month, limits: { total: -5 } }]\n");
        Run r = run("--config", cfg.toString(), "--grpc-port", "0");
        assertThat(r.code).isEqualTo(2);
        assertThat(r.err).contains("invalid config").contains("budgets[0]");
    }

    @Test
    void badFlagValuesAreRefused() throws Exception {
        Path cfg = config(VALID);
        assertThat(run("--config", cfg.toString(), "--grpc-port", "70000").err).contains("--grpc-port");
        assertThat(run("--config", cfg.toString(), "--drain-timeout", "soon").err).contains("--drain-timeout");
        assertThat(run("--config", cfg.toString(), "--store", "etcd").code).isEqualTo(2);
        assertThat(run("--config", cfg.toString(), "--grpc-threads", "-1").err).contains("--grpc-threads");
    }

    @Test
    void callbackThreadsAreAFixedPoolOnEitherStoreUnlessTheFlagSays() {
        // no callback waits for Redis any more: the same fixed pool as in memory
        assertThat(ExtProcMain.handlerThreads(settings(null)))
                .isEqualTo(ExtProcServer.DEFAULT_HANDLER_THREADS).isGreaterThanOrEqualTo(4);
        assertThat(ExtProcMain.handlerThreads(settings(16))).isEqualTo(16);
        assertThat(ExtProcMain.handlerThreads(settings(0))).isZero();
    }

    private ExtProcMain.ExtProcSettings settings(Integer grpcThreads) {
        return new ExtProcMain.ExtProcSettings(dir.resolve("tokenbudget.yaml"), "127.0.0.1", 0, -1, null, null,
                Duration.ZERO, Duration.ofSeconds(5), 32 << 20, grpcThreads, MessageTimeouts.ENVOY_DEFAULTS);
    }

    @Test
    void badSigningFlagsAreRefused() throws Exception {
        Path cfg = config(VALID);
        Run noRegion = run("--config", cfg.toString(), "--bedrock-upstream", "https://bedrock.internal");
        assertThat(noRegion.code).isEqualTo(2);
        assertThat(noRegion.err).contains("--bedrock-upstream needs --bedrock-signing-region");
        Run withPath = run("--config", cfg.toString(), "--bedrock-signing-region", "us-east-1",
                "--bedrock-upstream", "https://bedrock.internal/model");
        assertThat(withPath.code).isEqualTo(2);
        assertThat(withPath.err).contains("no path");
        Run badRegion = run("--config", cfg.toString(), "--admin-port", "-1", "--bedrock-signing-region", "Mars");
        assertThat(badRegion.code).isEqualTo(2);
        assertThat(badRegion.err).contains("region must be an AWS region").contains("Mars");
    }

    @Test
    void missingConfigFileIsReported() {
        Run r = run("--config", dir.resolve("absent.yaml").toString());
        assertThat(r.code).isEqualTo(2);
        assertThat(r.err).contains("absent.yaml");
    }

    private Path config(String yaml) throws Exception {
        Path p = dir.resolve("tokenbudget.yaml");
        Files.writeString(p, yaml);
        return p;
    }

    private record Run(int code, String err) {
    }

    private static Run run(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = new CommandLine(new ExtProcMain()).execute(args);
            return new Run(code, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }
}
