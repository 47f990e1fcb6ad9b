package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.GatewayFixture;
import dev.tokenbudget.provider.Payloads;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * AWS Bedrock and Google Vertex AI through the ext_proc server, in Envoy's message order: the
 * gateway layer does the work (routes, credentials, error shapes, event-stream metering), so the
 * adapter needs nothing of its own. Bedrock's binary event stream arrives in uneven chunks.
 */
class ExtProcCloudProvidersTest {

    private static final String HAIKU = "/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0";
    private static final byte[] CONVERSE = ("{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}],"
            + "\"inferenceConfig\":{\"maxTokens\":700}}").getBytes(StandardCharsets.UTF_8);

    private final ExtProcFixture fx = new ExtProcFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void bedrockConverseStreamIsForwardedWithTheBedrockKeyAndSettledFromItsMetadataFrame() {
        try (EnvoyStream s = fx.stream()) {
            var a = EnvoySequences.full(s, HAIKU + "/converse-stream", bearer(GatewayFixture.MAIN), CONVERSE,
                    "application/vnd.amazon.eventstream", Payloads.bytes("bedrock/converse-stream.frames"), 9);
            CommonResponse body = a.requestBody().getRequestBody().getResponse();
            assertThat(Mutations.set(body.getHeaderMutation()))
                    .containsEntry("authorization", "Bearer " + GatewayFixture.UPSTREAM_BEDROCK);
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isEqualTo(230 + 12);
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void vertexClaudeStreamIsSettledFromItsAnthropicEvents() {
        byte[] req = ("{\"anthropic_version\":\"vertex-2023-10-16\",\"stream\":true,\"max_tokens\":300,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").getBytes(StandardCharsets.UTF_8);
        try (EnvoyStream s = fx.stream()) {
            EnvoySequences.full(s, "/v1/projects/acme/locations/us-east5/publishers/anthropic/models/"
                    + "claude-sonnet-4-5@20250929:streamRawPredict", bearer(GatewayFixture.MAIN), req,
                    "text/event-stream", Payloads.bytes("vertex/stream-raw-predict.sse"), 4);
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isEqualTo(14 + 6);
    }

    @Test
    void bedrockRejectionIsAnImmediate429WithTheErrorTypeHeader() {
        // 3,000 of tight's 5,000-token day spent: 2,500 more wait for the reset (429), they are not refused for good
        fx.engine.engine.settle(fx.engine.reserve(GatewayFixture.TIGHT, null, 100, 100),
                dev.tokenbudget.usage.TokenUsage.of(1500, 1500));
        byte[] big = new String(CONVERSE, StandardCharsets.UTF_8).replace("700", "2500")
                .getBytes(StandardCharsets.UTF_8);
        try (EnvoyStream s = fx.stream()) {
            ProcessingResponse[] r = EnvoySequences.request(s, HAIKU + "/converse", bearer(GatewayFixture.TIGHT), big);
            ImmediateResponse ir = r[1].getImmediateResponse();
            assertThat(ir.getStatus().getCodeValue()).isEqualTo(429);
            Map<String, String> h = Mutations.set(ir.getHeaders());
            assertThat(h).containsEntry("x-amzn-errortype", "ThrottlingException").containsKey("retry-after");
            assertThat(Mutations.json(ir.getBody().toByteArray()).path("message").asText()).contains("tight");
        }
        assertThat(fx.reserved("tight")).isZero();
    }
}
