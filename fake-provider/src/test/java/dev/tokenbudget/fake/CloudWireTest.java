package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.UsageReader;
import dev.tokenbudget.provider.UsageReport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.eventstream.Message;
import software.amazon.awssdk.eventstream.MessageDecoder;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fake's Bedrock and Vertex AI answers on the wire: the documented shapes and event order,
 * real event-stream checksums (decoded by the AWS SDK's own decoder), and the usage the engine
 * reads from each — whole and split at every byte — equal to what the fake reported.
 */
class CloudWireTest {

    private static final FakeProvider FAKE = FakeProvider.start(0).pacer(StreamPacer.fixed(Duration.ZERO));
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1%3A0";
    private static final String CONVERSE = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Explain budgets\"}]}],"
            + "\"system\":[{\"text\":\"Be brief.\"}],\"inferenceConfig\":{\"maxTokens\":20}}";
    private static final String INVOKE = "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":300,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}";
    private static final String GEMINI = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash";
    private static final String CLAUDE = "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-haiku-4-5@20251001";
    private static final String CONTENTS = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Explain budgets\"}]}],"
            + "\"generationConfig\":{\"maxOutputTokens\":30}}";
    private static final String RAW = "{\"anthropic_version\":\"vertex-2023-10-16\",\"max_tokens\":300,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]";

    @AfterAll
    static void stop() {
        FAKE.close();
    }

    private static HttpResponse<byte[]> post(String path, String body) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(FAKE.baseUrl() + path))
                .header("content-type", "application/json").header("authorization", "Bearer upstream")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** The engine's reading of a response, whole and split at every byte, must match what the fake reported. */
    private static UsageReport readsAsReported(HttpResponse<byte[]> r, Family family, Endpoint endpoint) {
        String ct = r.headers().firstValue("content-type").orElse("");
        ReportedUsage reported = FAKE.lastExchange().usage().orElseThrow();
        byte[] b = r.body();
        UsageReport whole = null;
        for (int cut = 0; cut <= b.length; cut++) {
            UsageReader reader = UsageReader.of(family, endpoint, ct);
            reader.feed(b, 0, cut);
            reader.feed(b, cut, b.length - cut);
            UsageReport u = reader.finish();
            assertThat(u.complete()).as("split at %d", cut).isTrue();
            assertThat(u.inputTokens()).as("split at %d", cut).isEqualTo(reported.inputTokens());
            assertThat(u.outputTokens()).as("split at %d", cut).isEqualTo(reported.outputTokens());
            whole = u;
        }
        return whole;
    }

    private static List<Message> frames(byte[] body) {
        List<Message> out = new ArrayList<>();
        new MessageDecoder(out::add).feed(body);
        return out;
    }

    private static List<String> eventTypes(List<Message> frames) {
        return frames.stream().map(m -> m.getHeaders().get(":event-type").getString()).toList();
    }

    @Test
    void converseAnswersBedrocksBodyWithUsageClampedToMaxTokens() throws Exception {
        HttpResponse<byte[]> r = post("/model/" + HAIKU + "/converse", CONVERSE);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode b = JSON.readTree(r.body());
        assertThat(b.fieldNames()).toIterable().containsExactly("output", "stopReason", "usage", "metrics");
        assertThat(b.at("/output/message/role").asText()).isEqualTo("assistant");
        assertThat(b.get("stopReason").asText()).isEqualTo("max_tokens");
        assertThat(b.at("/usage/outputTokens").asLong()).isEqualTo(20);
        assertThat(b.at("/usage/totalTokens").asLong()).isEqualTo(b.at("/usage/inputTokens").asLong() + 20);
        readsAsReported(r, Family.BEDROCK, Endpoint.CONVERSE);
    }

    @Test
    void converseStreamIsAnAwsEventStreamInTheDocumentedOrderWithRealChecksums() throws Exception {
        HttpResponse<byte[]> r = post("/model/" + HAIKU + "/converse-stream", CONVERSE);
        assertThat(r.headers().firstValue("content-type")).contains("application/vnd.amazon.eventstream");
        List<Message> frames = frames(r.body()); // the SDK's decoder verifies both CRCs of every frame
        List<String> types = eventTypes(frames);
        assertThat(types.get(0)).isEqualTo("messageStart");
        assertThat(types.subList(types.size() - 3, types.size()))
                .containsExactly("contentBlockStop", "messageStop", "metadata");
        assertThat(types.subList(1, types.size() - 3)).isNotEmpty().allMatch("contentBlockDelta"::equals);
        assertThat(frames.get(0).getHeaders().get(":message-type").getString()).isEqualTo("event");
        JsonNode meta = JSON.readTree(frames.get(frames.size() - 1).getPayload());
        assertThat(meta.at("/usage/outputTokens").asLong()).isEqualTo(20);
        readsAsReported(r, Family.BEDROCK, Endpoint.CONVERSE_STREAM);
    }

    @Test
    void invokeAnswersAnthropicsMessageAndTheTokenCountHeaders() throws Exception {
        HttpResponse<byte[]> r = post("/model/" + HAIKU + "/invoke", INVOKE);
        JsonNode b = JSON.readTree(r.body());
        assertThat(b.get("type").asText()).isEqualTo("message");
        assertThat(b.get("model").asText()).isEqualTo("claude-haiku-4-5-20251001");
        assertThat(r.headers().firstValue("X-Amzn-Bedrock-Output-Token-Count"))
                .contains(b.at("/usage/output_tokens").asText());
        readsAsReported(r, Family.BEDROCK, Endpoint.INVOKE_MODEL);
    }

    @Test
    void invokeStreamWrapsEachAnthropicEventInAChunksBase64Bytes() throws Exception {
        HttpResponse<byte[]> r = post("/model/" + HAIKU + "/invoke-with-response-stream", INVOKE);
        List<Message> frames = frames(r.body());
        assertThat(eventTypes(frames)).allMatch("chunk"::equals);
        List<String> inner = new ArrayList<>();
        for (Message m : frames) {
            JsonNode e = JSON.readTree(Base64.getDecoder().decode(JSON.readTree(m.getPayload()).get("bytes").asText()));
            inner.add(e.get("type").asText());
        }
        assertThat(inner.get(0)).isEqualTo("message_start");
        assertThat(inner.subList(inner.size() - 3, inner.size()))
                .containsExactly("content_block_stop", "message_delta", "message_stop");
        assertThat(inner).doesNotContain("ping");
        readsAsReported(r, Family.BEDROCK, Endpoint.INVOKE_MODEL_STREAM);
    }

    @Test
    void invokeRefusesAModelFieldAsBedrockDoes() throws Exception {
        HttpResponse<byte[]> r = post("/model/" + HAIKU + "/invoke", INVOKE.replace("{", "{\"model\":\"x\","));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.headers().firstValue("x-amzn-ErrorType")).contains("ValidationException");
        assertThat(JSON.readTree(r.body()).get("message").asText()).contains("extraneous key [model]");
    }

    @Test
    void vertexGeminiAnswersJsonSseWithCrlfAndAJsonArray() throws Exception {
        HttpResponse<byte[]> json = post(GEMINI + ":generateContent", CONTENTS);
        JsonNode b = JSON.readTree(json.body());
        assertThat(b.at("/usageMetadata/candidatesTokenCount").asLong()).isEqualTo(30);
        assertThat(b.at("/candidates/0/finishReason").asText()).isEqualTo("MAX_TOKENS");
        readsAsReported(json, Family.GEMINI, Endpoint.GENERATE_CONTENT);

        HttpResponse<byte[]> sse = post(GEMINI + ":streamGenerateContent?alt=sse", CONTENTS);
        String text = new String(sse.body(), StandardCharsets.UTF_8);
        assertThat(text).startsWith("data: {").endsWith("}\r\n\r\n");
        readsAsReported(sse, Family.GEMINI, Endpoint.STREAM_GENERATE_CONTENT);

        HttpResponse<byte[]> array = post(GEMINI + ":streamGenerateContent", CONTENTS);
        assertThat(JSON.readTree(array.body()).isArray()).isTrue();
        readsAsReported(array, Family.GEMINI, Endpoint.STREAM_GENERATE_CONTENT);
    }

    @Test
    void vertexClaudeAnswersAnthropicsMessageAndStreamWithTheModelFromThePath() throws Exception {
        HttpResponse<byte[]> json = post(CLAUDE + ":rawPredict", RAW + "}");
        assertThat(JSON.readTree(json.body()).get("model").asText()).isEqualTo("claude-haiku-4-5-20251001");
        readsAsReported(json, Family.ANTHROPIC, Endpoint.RAW_PREDICT);

        HttpResponse<byte[]> sse = post(CLAUDE + ":streamRawPredict", RAW + ",\"stream\":true}");
        assertThat(new String(sse.body(), StandardCharsets.UTF_8)).startsWith("event: message_start\n");
        readsAsReported(sse, Family.ANTHROPIC, Endpoint.STREAM_RAW_PREDICT);

        HttpResponse<byte[]> bad = post(CLAUDE + ":rawPredict", RAW.replace("vertex-2023-10-16", "2023-06-01") + "}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).at("/error/status").asText()).isEqualTo("INVALID_ARGUMENT");
    }
}
