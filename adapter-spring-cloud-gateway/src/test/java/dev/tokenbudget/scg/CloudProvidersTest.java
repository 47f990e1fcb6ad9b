package dev.tokenbudget.scg;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.fake.RecordedExchange;
import dev.tokenbudget.fake.ReportedUsage;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * AWS Bedrock and Google Vertex AI through the real Spring Cloud Gateway to fake providers that
 * demand the upstream credential: the virtual key is replaced, JSON and streams (AWS event streams
 * included) pass byte for byte, each request settles exactly what the provider reported, and a
 * rejection is shaped as each API shapes it.
 */
class CloudProvidersTest extends GatewayTestBase {

    private static final String HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1%3A0";
    private static final String CONVERSE = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Explain token "
            + "budgets.\"}]}],\"inferenceConfig\":{\"maxTokens\":%d}}";
    private static final String INVOKE = "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":%d,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}";
    private static final String GEMINI = "/v1/projects/acme/locations/us-central1/publishers/google/models/gemini-2.5-flash";
    private static final String CLAUDE = "/v1/projects/acme/locations/us-east5/publishers/anthropic/models/"
            + "claude-haiku-4-5@20251001";

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<byte[]> post(String path, String key, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Sends, checks the upstream got the provider credential and the client got its bytes, awaits the exact settle. */
    private void settlesExactly(String path, String body, dev.tokenbudget.fake.FakeProvider upstream, String credential)
            throws Exception {
        long before = used("cloud").total();
        HttpResponse<byte[]> r = post(path, "vk-it-cloud", body);
        assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        RecordedExchange e = upstream.lastExchange();
        assertThat(e.request().header("authorization")).isEqualTo("Bearer " + credential);
        assertThat(r.body()).isEqualTo(e.sentBody());
        ReportedUsage u = e.usage().orElseThrow();
        await("settled with the reported usage", () -> used("cloud").total() - before == u.totalTokens()
                && reserved("cloud").total() == 0);
    }

    @Test
    void bedrockConverseAndItsEventStreamSettleExactly() throws Exception {
        settlesExactly("/model/" + HAIKU + "/converse", CONVERSE.formatted(40), BEDROCK, "ABSK-it-bedrock");
        settlesExactly("/model/" + HAIKU + "/converse-stream", CONVERSE.formatted(40), BEDROCK, "ABSK-it-bedrock");
        assertThat(BEDROCK.lastExchange().streamed()).isTrue();
        assertThat(BEDROCK.lastExchange().request().path()).isEqualTo("/model/us.anthropic.claude-haiku-4-5-20251001-v1:0/converse-stream");
    }

    @Test
    void bedrockInvokeAndItsChunkStreamSettleExactly() throws Exception {
        settlesExactly("/model/" + HAIKU + "/invoke", INVOKE.formatted(60), BEDROCK, "ABSK-it-bedrock");
        settlesExactly("/model/" + HAIKU + "/invoke-with-response-stream", INVOKE.formatted(60), BEDROCK,
                "ABSK-it-bedrock");
    }

    @Test
    void vertexGeminiAndClaudeSettleExactlyStreamsIncluded() throws Exception {
        String contents = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Explain budgets\"}]}],"
                + "\"generationConfig\":{\"maxOutputTokens\":30}}";
        settlesExactly(GEMINI + ":generateContent", contents, VERTEX, "ya29.it-vertex");
        settlesExactly(GEMINI + ":streamGenerateContent?alt=sse", contents, VERTEX, "ya29.it-vertex");
        String raw = "{\"anthropic_version\":\"vertex-2023-10-16\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Hello\"}]";
        settlesExactly(CLAUDE + ":rawPredict", raw + "}", VERTEX, "ya29.it-vertex");
        settlesExactly(CLAUDE + ":streamRawPredict", raw + ",\"stream\":true}", VERTEX, "ya29.it-vertex");
    }

    @Test
    void rejectionsAreShapedAsBedrockAndVertexShapeTheirs() throws Exception {
        // 200 of cloud-tight's 300-token day spent: 150 more wait for the reset (429), not refused for good (400)
        VirtualKey key = engine.authenticate("vk-it-cloud-tight").orElseThrow();
        engine.settle(engine.reserve(new BudgetRequest(key, null, null, "claude-haiku-4-5", 100, 100)),
                TokenUsage.of(100, 100));
        HttpResponse<byte[]> b = post("/model/" + HAIKU + "/converse-stream", "vk-it-cloud-tight", CONVERSE.formatted(150));
        assertThat(b.statusCode()).isEqualTo(429);
        assertThat(b.headers().firstValue("x-amzn-ErrorType")).contains("ThrottlingException");
        assertThat(b.headers().firstValue("Retry-After")).isPresent();
        JsonNode bj = json(b.body());
        assertThat(bj.size()).isEqualTo(1);
        assertThat(bj.get("message").asText()).contains("cloud-tight");

        HttpResponse<byte[]> v = post(CLAUDE + ":streamRawPredict", "vk-it-cloud-tight",
                "{\"anthropic_version\":\"vertex-2023-10-16\",\"stream\":true,\"max_tokens\":150,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}");
        assertThat(v.statusCode()).isEqualTo(429);
        assertThat(json(v.body()).at("/error/status").asText()).isEqualTo("RESOURCE_EXHAUSTED");
        assertThat(BEDROCK.exchanges()).isEmpty();
        assertThat(VERTEX.exchanges()).isEmpty();
        assertThat(reserved("cloud-tight").total()).isZero();
    }
}
