package dev.tokenbudget.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Payloads;
import dev.tokenbudget.provider.Provider;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static dev.tokenbudget.gateway.GatewayFixture.CHEAP;
import static dev.tokenbudget.gateway.GatewayFixture.MAIN;
import static dev.tokenbudget.gateway.GatewayFixture.TIGHT;
import static org.assertj.core.api.Assertions.assertThat;

/** AWS Bedrock and Google Vertex AI through the gateway layer: routes, facts, degrade in the path, errors, settlement. */
class CloudGatewayTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
    private static final String OPUS = "us.anthropic.claude-opus-4-7-v1:0";
    private static final String CONVERSE = """
            {"messages":[{"role":"user","content":[{"text":"Explain token budgets."}]}],\
            "system":[{"text":"%s"}],"inferenceConfig":{"maxTokens":700,"temperature":0.2}}"""
            .formatted(GatewayFixture.SUPPORT_PROMPT);
    private static final String INVOKE = """
            {"anthropic_version":"bedrock-2023-05-31","max_tokens":500,\
            "messages":[{"role":"user","content":"Hello"}]}""";
    private static final String VERTEX_GEMINI = "/v1/projects/acme-prod/locations/us-central1/publishers/google/models/";
    private static final String VERTEX_CLAUDE = "/v1/projects/acme-prod/locations/us-east5/publishers/anthropic/models/";

    private final GatewayFixture fx = new GatewayFixture();

    private static String enc(String modelId) {
        return modelId.replace(":", "%3A");
    }

    private static TestRequest bearer(String path, String key) {
        return TestRequest.post(path, "Authorization", "Bearer " + key);
    }

    @Test
    void bedrockRoutesReadTheModelIdFromThePathEncodedOrNot() {
        for (String id : new String[] {HAIKU, enc(HAIKU), "anthropic.claude-haiku-4-5-20251001-v1%3A0",
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F" + enc(HAIKU)}) {
            Route r = Route.of("POST", "/model/" + id + "/converse-stream", null);
            assertThat(r.provider()).as(id).isEqualTo(Provider.BEDROCK);
            assertThat(r.endpoint()).as(id).isEqualTo(Endpoint.CONVERSE_STREAM);
            assertThat(r.pathModel()).as(id).endsWith("claude-haiku-4-5-20251001-v1:0");
        }
        assertThat(Route.of("POST", "/model/m/converse", null).endpoint()).isEqualTo(Endpoint.CONVERSE);
        assertThat(Route.of("POST", "/model/m/invoke", null).endpoint()).isEqualTo(Endpoint.INVOKE_MODEL);
        assertThat(Route.of("POST", "/model/m/invoke-with-response-stream", null).endpoint())
                .isEqualTo(Endpoint.INVOKE_MODEL_STREAM);
        assertThat(Route.of("POST", "/model/m/count-tokens", null).endpoint()).isEqualTo(Endpoint.UNMETERED);
    }

    @Test
    void vertexRoutesTellGeminiFromClaudeAndCountingFromGenerating() {
        Route g = Route.of("POST", VERTEX_GEMINI + "gemini-2.5-pro:streamGenerateContent?alt=sse", null);
        assertThat(g.provider()).isEqualTo(Provider.VERTEX);
        assertThat(g.endpoint()).isEqualTo(Endpoint.STREAM_GENERATE_CONTENT);
        assertThat(g.pathModel()).isEqualTo("gemini-2.5-pro");
        assertThat(Route.of("POST", VERTEX_CLAUDE + "claude-sonnet-4-5@20250929:rawPredict", null).endpoint())
                .isEqualTo(Endpoint.RAW_PREDICT);
        assertThat(Route.of("POST", VERTEX_CLAUDE + "claude-sonnet-4-5@20250929:streamRawPredict", null).pathModel())
                .isEqualTo("claude-sonnet-4-5@20250929");
        assertThat(Route.of("POST", VERTEX_CLAUDE + "count-tokens:rawPredict", null).endpoint())
                .isEqualTo(Endpoint.UNMETERED);
        assertThat(Route.of("POST", VERTEX_GEMINI + "gemini-2.5-pro:countTokens", null).endpoint())
                .isEqualTo(Endpoint.UNMETERED);
        Route other = Route.of("POST", "/v1/projects/p/locations/l/publishers/meta/models/llama:rawPredict", null);
        assertThat(other.known()).isFalse(); // a body we do not read is refused rather than spent unmetered
    }

    @Test
    void converseStreamIsReservedAtItsMaxTokensForwardedWithTheBedrockKeyAndSettledFromMetadata() {
        Forward f = fx.forward(bearer("/model/" + enc(HAIKU) + "/converse-stream", MAIN), CONVERSE);
        assertThat(f.provider()).isEqualTo(Provider.BEDROCK);
        assertThat(f.stream()).isTrue();
        assertThat(f.model()).isEqualTo(HAIKU);
        assertThat(f.ticket().reservedOutput()).isEqualTo(700);
        assertThat(f.setHeaders()).containsEntry("authorization", "Bearer " + GatewayFixture.UPSTREAM_BEDROCK);
        assertThat(f.removeHeaders()).contains("authorization");
        MeterResult m = GatewayFixture.respond(f, 200, "application/vnd.amazon.eventstream",
                Payloads.bytes("bedrock/converse-stream.frames"), 7);
        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.SETTLED);
        assertThat(m.charged().inputTokens()).isEqualTo(230);
        assertThat(m.charged().cachedInputTokens()).isEqualTo(200);
        assertThat(m.charged().outputTokens()).isEqualTo(12);
        assertThat(fx.reserved("org")).isZero();
        assertThat(fx.used("org")).isEqualTo(242);
    }

    @Test
    void invokeStreamIsSettledFromTheAnthropicEventsInsideTheChunks() {
        Forward f = fx.forward(bearer("/model/" + enc(HAIKU) + "/invoke-with-response-stream", MAIN), INVOKE);
        assertThat(f.ticket().reservedOutput()).isEqualTo(500);
        MeterResult m = GatewayFixture.respond(f, 200, "application/vnd.amazon.eventstream",
                Payloads.bytes("bedrock/invoke-stream.frames"), 13);
        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.SETTLED);
        assertThat(m.charged().inputTokens()).isEqualTo(122);
        assertThat(m.charged().outputTokens()).isEqualTo(35);
    }

    @Test
    void aThrottledConverseStreamSettlesAtTheReservationNeverLess() {
        Forward f = fx.forward(bearer("/model/" + enc(HAIKU) + "/converse-stream", MAIN), CONVERSE);
        long reservedIn = f.ticket().reservedInput();
        MeterResult m = GatewayFixture.respond(f, 200, "application/vnd.amazon.eventstream",
                Payloads.bytes("bedrock/converse-stream-throttled.frames"), 5);
        assertThat(m.report().error()).startsWith("throttlingException");
        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.SETTLED_UNKNOWN);
        assertThat(fx.used("org")).isEqualTo(reservedIn + 700);
    }

    @Test
    void degradedBedrockRequestChangesTheModelIdInThePathAndClampsMaxTokensInTheBody() throws Exception {
        Forward f = fx.forward(bearer("/model/" + enc(OPUS) + "/converse?x=1", CHEAP),
                CONVERSE.replace("700", "6000"));
        assertThat(f.degraded()).isTrue();
        assertThat(f.model()).isEqualTo(HAIKU);
        assertThat(f.path()).isEqualTo("/model/" + enc(HAIKU) + "/converse?x=1");
        JsonNode sent = JSON.readTree(f.body());
        assertThat(sent.has("model")).isFalse();
        assertThat(sent.at("/inferenceConfig/maxTokens").asLong()).isEqualTo(256);
        assertThat(sent.at("/inferenceConfig/temperature").asDouble()).isEqualTo(0.2);
        assertThat(sent.at("/system/0/text").asText()).isEqualTo(GatewayFixture.SUPPORT_SHORT);
        MeterResult m = GatewayFixture.respond(f, 200, "application/json", Payloads.bytes("bedrock/converse.json"),
                1000);
        assertThat(m.charged().inputTokens()).isEqualTo(25);
    }

    @Test
    void degradedInvokeBodyGetsNoModelFieldSinceBedrockRefusesOne() throws Exception {
        Forward f = fx.forward(bearer("/model/" + OPUS + "/invoke", CHEAP), INVOKE.replace("500", "6000"));
        assertThat(f.path()).isEqualTo("/model/" + enc(HAIKU) + "/invoke");
        JsonNode sent = JSON.readTree(f.body());
        assertThat(sent.has("model")).isFalse();
        assertThat(sent.get("max_tokens").asLong()).isEqualTo(256);
        assertThat(sent.get("anthropic_version").asText()).isEqualTo("bedrock-2023-05-31");
    }

    /** Spends 3,000 of tight's 5,000-token day, so that asking 2,500 waits for the reset (429), not refused for good. */
    private void spendMostOfTightsDay() {
        Ticket spent = fx.engine.reserve(TIGHT, null, 100, 100);
        fx.engine.engine.settle(spent, TokenUsage.of(1500, 1500));
    }

    @Test
    void bedrockRejectionIs429WithTheErrorTypeHeaderAndAMessageBody() throws Exception {
        spendMostOfTightsDay();
        Reply r = fx.reply(bearer("/model/" + enc(HAIKU) + "/converse", TIGHT), CONVERSE.replace("700", "2500"));
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.headers()).containsEntry("x-amzn-ErrorType", "ThrottlingException").containsKey("Retry-After")
                .containsEntry("content-type", "application/json");
        JsonNode b = JSON.readTree(r.body());
        assertThat(b.size()).isEqualTo(1);
        assertThat(b.get("message").asText()).contains("tight");

        Reply invoke = fx.reply(bearer("/model/" + enc(HAIKU) + "/invoke", TIGHT), INVOKE.replace("500", "2500"));
        assertThat(invoke.headers()).containsEntry("x-amzn-ErrorType", "ThrottlingException");
        assertThat(JSON.readTree(invoke.body()).has("type")).isFalse(); // Bedrock's shape, not Anthropic's

        Reply unknown = fx.reply(bearer("/model/" + enc(HAIKU) + "/converse", "sk-nope"), CONVERSE);
        assertThat(unknown.status()).isEqualTo(401);
        assertThat(unknown.headers()).containsEntry("x-amzn-ErrorType", "UnrecognizedClientException");
        assertThat(fx.reserved("tight")).isZero();
    }

    @Test
    void vertexRejectionIsGooglesErrorObjectForGeminiAndClaudeAlike() throws Exception {
        spendMostOfTightsDay();
        for (String path : new String[] {VERTEX_GEMINI + "gemini-2.5-pro:generateContent",
            VERTEX_CLAUDE + "claude-sonnet-4-5@20250929:rawPredict"}) {
            String body = path.contains("rawPredict")
                    ? "{\"anthropic_version\":\"vertex-2023-10-16\",\"max_tokens\":2500,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}"
                    : "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hi\"}]}],\"generationConfig\":{\"maxOutputTokens\":2500}}";
            Reply r = fx.reply(bearer(path, TIGHT), body);
            assertThat(r.status()).as(path).isEqualTo(429);
            JsonNode e = JSON.readTree(r.body()).get("error");
            assertThat(e.get("code").asInt()).as(path).isEqualTo(429);
            assertThat(e.get("status").asText()).as(path).isEqualTo("RESOURCE_EXHAUSTED");
            assertThat(r.headers()).as(path).containsKey("Retry-After").doesNotContainKey("x-amzn-ErrorType");
        }
    }

    @Test
    void vertexGeminiStreamIsForwardedWithTheAccessTokenAndDegradedInThePath() {
        Forward f = fx.forward(bearer(VERTEX_GEMINI + "gemini-2.5-pro:streamGenerateContent?alt=sse", CHEAP),
                "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}],"
                        + "\"generationConfig\":{\"maxOutputTokens\":8000}}");
        assertThat(f.provider()).isEqualTo(Provider.VERTEX);
        assertThat(f.setHeaders()).containsEntry("authorization", "Bearer " + GatewayFixture.UPSTREAM_VERTEX);
        assertThat(f.path()).isEqualTo(VERTEX_GEMINI + "gemini-2.5-flash:streamGenerateContent?alt=sse");
        assertThat(new String(f.body(), StandardCharsets.UTF_8)).contains("\"maxOutputTokens\":256")
                .doesNotContain("\"model\"");
        MeterResult m = GatewayFixture.respond(f, 200, "text/event-stream",
                Payloads.bytes("vertex/stream-generate-content.sse"), 3);
        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.SETTLED);
        assertThat(m.charged().inputTokens()).isEqualTo(9);
        assertThat(m.charged().outputTokens()).isEqualTo(8);
    }

    @Test
    void vertexClaudeStreamIsReadFromItsBodysStreamFlagAndSettledFromAnthropicEvents() {
        Forward f = fx.forward(bearer(VERTEX_CLAUDE + "claude-sonnet-4-5@20250929:streamRawPredict", MAIN),
                "{\"anthropic_version\":\"vertex-2023-10-16\",\"stream\":true,\"max_tokens\":300,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertThat(f.stream()).isTrue();
        assertThat(f.model()).isEqualTo("claude-sonnet-4-5@20250929");
        assertThat(f.ticket().reservedOutput()).isEqualTo(300);
        MeterResult m = GatewayFixture.respond(f, 200, "text/event-stream",
                Payloads.bytes("vertex/stream-raw-predict.sse"), 11);
        assertThat(m.charged().inputTokens()).isEqualTo(14);
        assertThat(m.charged().outputTokens()).isEqualTo(6);
    }

    @Test
    void aSignerSignsTheBodyAsSentAndItsFailureReleasesAndAnswers500InBedrocksShape() throws Exception {
        java.util.List<String> signed = new java.util.ArrayList<>();
        GatewayFixture signing = new GatewayFixture(GatewayOptions.custom().upstreamSigner(Provider.BEDROCK,
                (method, uri, headers, body) -> {
                    signed.add(method + " " + uri + " " + new String(body, StandardCharsets.UTF_8));
                    return java.util.Map.of("authorization", "AWS4-HMAC-SHA256 test");
                }));
        Forward f = signing.forward(bearer("/model/" + enc(OPUS) + "/converse", CHEAP), CONVERSE.replace("700", "6000"));
        assertThat(f.setHeaders()).doesNotContainKey("authorization"); // no api_key_env credential
        java.util.Map<String, String> h = f.sign("POST", java.net.URI.create("https://bedrock-runtime.us-east-1"
                + ".amazonaws.com" + f.path()), java.util.Map.of("content-type", "application/json"), f.body());
        assertThat(h).containsEntry("authorization", "AWS4-HMAC-SHA256 test");
        assertThat(signed).singleElement().asString().contains("/model/" + enc(HAIKU) + "/converse")
                .contains("\"maxTokens\":256");
        f.meter().abort();

        GatewayFixture broken = new GatewayFixture(GatewayOptions.custom().upstreamSigner(Provider.BEDROCK,
                (method, uri, headers, body) -> {
                    throw new IllegalStateException("no AWS credentials in the chain");
                }));
        Forward g = broken.forward(bearer("/model/" + enc(HAIKU) + "/converse", MAIN), CONVERSE);
        assertThat(broken.reserved("org")).isPositive();
        RuntimeException cause = null;
        try {
            g.sign("POST", java.net.URI.create("https://h/model/x/converse"), java.util.Map.of(), new byte[0]);
        } catch (RuntimeException e) {
            cause = e;
        }
        Reply r = broken.gateway.signFailure(g, cause);
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.headers()).containsEntry("x-amzn-ErrorType", "InternalServerException");
        assertThat(r.bodyText()).doesNotContain("AWS credentials");
        assertThat(broken.reserved("org")).isZero();
        assertThat(broken.used("org")).isZero();
    }

    @Test
    void anInvokeBodyOfAnotherModelFamilyIsReservedAtItsOwnCeilingAndSettledFromBedrocksHeaders() {
        Forward f = fx.forward(bearer("/model/meta.llama3-70b-instruct-v1%3A0/invoke", MAIN),
                "{\"prompt\":\"Explain token budgets.\",\"max_gen_len\":100,\"temperature\":0.5}");
        assertThat(f.ticket().reservedOutput()).isEqualTo(100);
        java.util.Map<String, String> h = java.util.Map.of("x-amzn-bedrock-input-token-count", "12",
                "x-amzn-bedrock-output-token-count", "5");
        ResponseMeter m = f.meter();
        m.onResponseHeaders(200, "application/json", h::get);
        byte[] body = "{\"generation\":\"Budgets cap tokens.\",\"prompt_token_count\":12,\"generation_token_count\":5,\"stop_reason\":\"stop\"}"
                .getBytes(StandardCharsets.UTF_8);
        m.onBytes(body, 0, body.length);
        MeterResult r = m.complete();
        assertThat(r.outcome()).isEqualTo(MeterResult.Outcome.SETTLED);
        assertThat(r.charged().inputTokens()).isEqualTo(12);
        assertThat(r.charged().outputTokens()).isEqualTo(5);

        // without the headers the body's usage is unknown: settled at the reservation, never below
        Forward g = fx.forward(bearer("/model/meta.llama3-70b-instruct-v1%3A0/invoke", MAIN),
                "{\"prompt\":\"Hi\",\"max_gen_len\":100}");
        assertThat(GatewayFixture.respond(g, 200, "application/json", body, 16).outcome())
                .isEqualTo(MeterResult.Outcome.SETTLED_UNKNOWN);
    }
}
