package dev.tokenbudget.envoy;

import dev.tokenbudget.engine.EngineFixture;
import dev.tokenbudget.testing.ChildJvm;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shaded jar as an operator runs it: {@code java -jar} with a config, a free port, health,
 * a full exchange, then SIGTERM and a logged drain.
 */
class ExtProcJarIT {

    private static final Pattern LISTENING = Pattern.compile("event=listening port=(\\d+)");

    @TempDir
    Path dir;

    @Test
    void jarServesExtProcAndHealthAndDrainsOnSigterm() throws Exception {
        Path cfg = dir.resolve("tokenbudget.yaml");
        Files.writeString(cfg, """
                providers:
                  openai: { api_key_env: TB_IT_OPENAI }
                budgets:
                  - id: org
                    windows: [{ period: month, limits: { total: 1M } }]
                keys:
                  - { name: it, sha256: %s, budget: org }
                """.formatted(EngineFixture.sha("sk-tb-it")));
        String jar = System.getProperty("tokenbudget.extproc.jar");
        assertThat(Path.of(jar)).exists();
        // to a file: Process.destroy() would close a pipe before the drain gets to log
        ChildJvm jvm = ChildJvm.start(List.of("-jar", jar, "--config", cfg.toString(), "--grpc-address", "127.0.0.1",
                "--grpc-port", "0", "--admin-port", "0", "--drain-timeout", "20s"),
                Map.of("TB_IT_OPENAI", "sk-upstream-it"), dir.resolve("extproc.log"));
        try {
            int port = Integer.parseInt(jvm.awaitPrinted("the server reporting its port", Duration.ofSeconds(30),
                    LISTENING));
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            assertThat(HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.newBuilder().setService(ExtProcServer.HEALTH_SERVICE).build())
                    .getStatus()).isEqualTo(ServingStatus.SERVING);
            try (EnvoyStream s = new EnvoyStream(ch, EnvoyRules.untimed().filter())) {
                var a = EnvoySequences.full(s, "/v1/chat/completions", bearer("sk-tb-it"),
                        payload("openai-chat-request.json"), "application/json", payload("openai-chat-response.json"),
                        3);
                ProcessingResponse body = a.requestBody();
                assertThat(Mutations.set(body.getRequestBody().getResponse().getHeaderMutation()))
                        .containsEntry("authorization", "Bearer sk-upstream-it");
            }
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            assertThat(jvm.stop(Duration.ofSeconds(60))).as("exited after SIGTERM").isTrue();
            String out = jvm.log();
            // 143: ended by SIGTERM, after the shutdown hook drained
            assertThat(jvm.exitValue()).as(out).isEqualTo(143);
            assertThat(out).contains("event=admin_started").contains("TOKENBUDGET_ADMIN_TOKEN=")
                    .contains("event=drain_start").contains("event=drain_end clean=true")
                    .contains("meter=settled input_tokens=1187 output_tokens=46")
                    .doesNotContain("sk-tb-it").doesNotContain("sk-upstream-it");
        } finally {
            jvm.close();
        }
    }
}
