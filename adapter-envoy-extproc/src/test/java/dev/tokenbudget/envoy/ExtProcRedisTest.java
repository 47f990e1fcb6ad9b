package dev.tokenbudget.envoy;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.EngineFixture;
import dev.tokenbudget.store.redis.TestRedis;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server as {@code java -jar} builds it, on the real Redis store: {@code --redis-uri} wins over
 * the config's URI, and what one processor settles another gateway's engine on the same Redis sees.
 */
class ExtProcRedisTest {

    @TempDir
    Path dir;

    private final String prefix = TestRedis.uniquePrefix("envoy");

    @AfterEach
    void cleanUp() {
        TestRedis.deleteKeys(prefix);
    }

    @Test
    void processorOnRedisSettlesUsageThatAnotherEngineOnTheSameRedisSees() throws Exception {
        String redis = TestRedis.uri();
        String budgets = """
                budgets:
                  - id: org
                    windows: [{ period: month, limits: { total: 10M } }]
                keys:
                  - { name: shared, sha256: %s, budget: org }
                """.formatted(EngineFixture.sha("sk-tb-shared"));
        Path cfg = dir.resolve("tokenbudget.yaml");
        // the config names a Redis nobody listens on; the flag points at the real one. A generous
        // timeout: this test is about sharing, not about the fail mode of a slow machine
        Files.writeString(cfg, "store: { type: redis, redis: { uri: \"redis://127.0.0.1:1\", timeout: 5s, "
                + "key_prefix: " + prefix + " } }\n" + budgets);
        ExtProcServer server = ExtProcMain.server(new ExtProcMain.ExtProcSettings(cfg, "127.0.0.1", 0, -1, null,
                redis, Duration.ZERO, Duration.ofSeconds(5), 32 << 20, null,
                MessageTimeouts.ENVOY_DEFAULTS)).start();
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        try (EnvoyStream s = new EnvoyStream(ch, EnvoyRules.untimed().filter())) {
            EnvoySequences.full(s, "/v1/chat/completions", bearer("sk-tb-shared"), payload("openai-chat-request.json"),
                    "application/json", payload("openai-chat-response.json"), 3);
            s.awaitClosed();
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.drain(Duration.ofSeconds(5));
        }
        try (BudgetEngine other = BudgetEngine.builder(ConfigLoader.parse("store: { type: redis, redis: { uri: \""
                + redis + "\", timeout: 5s, key_prefix: " + prefix + " } }\n" + budgets)).build()) {
            var window = other.status("org").orElseThrow().windows().get(0);
            assertThat(window.used().total()).isEqualTo(1187 + 46);
            assertThat(window.reserved().total()).isZero();
        }
    }
}
