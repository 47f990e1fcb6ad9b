package dev.tokenbudget.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.DecisionHeaders;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
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

class BudgetGatewayTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT = """
            {"model":"gpt-4.1","messages":[{"role":"system","content":"You are terse."},\
            {"role":"user","content":"What is the capital of France?"}],"max_completion_tokens":300}""";
    private static final String MESSAGES = """
            {"model":"claude-opus-4-1","max_tokens":400,"messages":[{"role":"user","content":"Hello"}]}""";

    private final GatewayFixture fx = new GatewayFixture();

    private static JsonNode json(byte[] b) throws Exception {
        return JSON.readTree(b);
    }

    @Test
    void unknownKeyGets401ShapedLikeOpenAi() throws Exception {
        Reply r = fx.reply(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer sk-nope"), CHAT);
        assertThat(r.status()).isEqualTo(401);
        JsonNode e = json(r.body()).get("error");
        assertThat(e.get("type").asText()).isEqualTo("authentication_error");
        assertThat(e.get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(e.has("param")).isTrue();
        assertThat(e.get("message").asText()).contains("authorization header");
    }

    @Test
    void missingKeyOnAnthropicRouteGets401ShapedLikeAnthropic() throws Exception {
        Reply r = fx.reply(TestRequest.post("/v1/messages"), MESSAGES);
        assertThat(r.status()).isEqualTo(401);
        JsonNode b = json(r.body());
        assertThat(b.get("type").asText()).isEqualTo("error");
        assertThat(b.at("/error/type").asText()).isEqualTo("authentication_error");
        assertThat(b.at("/error/message").asText()).contains("x-api-key");
    }

    @Test
    void openAiChatIsForwardedWithTheUpstreamKeyAndSettledWithReportedUsage() {
        Forward f = fx.forward(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + MAIN,
                "x-tokenbudget-feature", "copilot"), CHAT);
        assertThat(f.provider()).isEqualTo(Provider.OPENAI);
        assertThat(f.endpoint()).isEqualTo(Endpoint.CHAT_COMPLETIONS);
        assertThat(f.body()).as("an unchanged request keeps the client's bytes").isNull();
        assertThat(f.path()).isNull();
        assertThat(f.removeHeaders()).as("key headers, accept-encoding so that usage stays readable, and the "
                        + "routing directives a client may not set for itself")
                .containsExactlyInAnyOrder("authorization", "x-api-key", "x-goog-api-key", "api-key", "accept-encoding",
                        "x-tokenbudget-route", "x-tokenbudget-cache-ttl");
        assertThat(f.setHeaders()).containsEntry("authorization", "Bearer " + GatewayFixture.UPSTREAM_OPENAI);
        assertThat(f.responseHeaders()).containsEntry("x-tokenbudget-decision", "allow");
        assertThat(f.ticket().reservedOutput()).isEqualTo(300);
        assertThat(fx.reserved("copilot")).isGreaterThan(300);

        MeterResult m = GatewayFixture.respond(f, 200, "application/json", Payloads.bytes("openai/chat.json"), 7);
        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.SETTLED);
        assertThat(m.charged().inputTokens()).isEqualTo(1200);
        assertThat(m.charged().outputTokens()).isEqualTo(18);
        assertThat(fx.used("copilot")).isEqualTo(1218);
        assertThat(fx.reserved("copilot")).isZero();
    }

    @Test
    void openAiStreamWithoutUsageIsRewrittenToAskForItKeepingFieldOrder() throws Exception {
        String body = "{\"model\":\"gpt-4.1\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"temperature\":0.70,\"metadata\":{\"z\":\"1\",\"a\":\"2\"}}";
        Forward f = fx.forward(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + MAIN), body);
        assertThat(f.stream()).isTrue();
        String sent = new String(f.body(), StandardCharsets.UTF_8);
        assertThat(sent).isEqualTo("{\"model\":\"gpt-4.1\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"hi\"}],\"temperature\":0.70,\"metadata\":{\"z\":\"1\",\"a\":\"2\"},"
                + "\"stream_options\":{\"include_usage\":true}}");

        MeterResult m = GatewayFixture.respond(f, 200, "text/event-stream", Payloads.bytes("openai/chat-stream.sse"),
                13);
        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.SETTLED);
        assertThat(m.charged().totalTokens()).isEqualTo(51);
        assertThat(fx.used("org")).isEqualTo(51);
    }

    @Test
    void streamThatAlreadyAsksForUsageIsLeftAlone() {
        String body = "{\"model\":\"gpt-4.1\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                + "\"messages\":[]}";
        Forward f = fx.forward(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + MAIN), body);
        assertThat(f.body()).isNull();
    }

    @Test
    void anthropicStreamSettlesInputFromMessageStartAndCumulativeOutput() {
        Forward f = fx.forward(TestRequest.post("/v1/messages", "x-api-key", MAIN, "anthropic-version",
                "2023-06-01"), MESSAGES.replace("}]}", "}],\"stream\":true}"));
        assertThat(f.setHeaders()).containsEntry("x-api-key", GatewayFixture.UPSTREAM_ANTHROPIC);
        assertThat(f.body()).isNull();
        MeterResult m = GatewayFixture.respond(f, 200, "text/event-stream",
                Payloads.bytes("anthropic/messages-stream.sse"), 5);
        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.SETTLED);
        assertThat(m.charged().inputTokens()).isEqualTo(125);
        assertThat(m.charged().cachedInputTokens()).isEqualTo(100);
        assertThat(m.charged().outputTokens()).isEqualTo(15);
    }

    @Test
    void anthropicJsonSettlesCacheWritesAndReadsAsInput() {
        Forward f = fx.forward(TestRequest.post("/v1/messages", "x-api-key", MAIN), MESSAGES);
        MeterResult m = GatewayFixture.respond(f, 200, "application/json", Payloads.bytes("anthropic/messages.json"),
                1000);
        assertThat(m.charged().inputTokens()).isEqualTo(12 + 2048 + 4096);
        assertThat(fx.used("org")).isEqualTo(12 + 2048 + 4096 + 9);
    }

    @Test
    void exhaustedHardStopBudgetAnswers429ShapedLikeTheProviderWithRetryAfter() throws Exception {
        // 3,000 of tight's 5,000 spent: 2,500 more fit its day, not what is left of it
        Ticket spent = fx.engine.reserve(TIGHT, null, 100, 100);
        fx.engine.engine.settle(spent, TokenUsage.of(1500, 1500));
        String big = MESSAGES.replace("\"max_tokens\":400", "\"max_tokens\":2500");
        Reply r = fx.reply(TestRequest.post("/v1/messages", "x-api-key", TIGHT), big);
        assertThat(r.status()).isEqualTo(429);
        // the clock stands at 09:00 UTC and the window is a UTC day: it resets in 15 hours
        assertThat(r.headers()).containsEntry("Retry-After", "54000").containsEntry("x-tokenbudget-decision", "reject")
                .containsEntry(DecisionHeaders.ERROR_CODE, "token_budget_exceeded")
                .containsEntry("content-type", "application/json");
        JsonNode b = json(r.body());
        assertThat(b.get("type").asText()).isEqualTo("error");
        assertThat(b.at("/error/type").asText()).isEqualTo("rate_limit_error");
        assertThat(b.at("/error/message").asText()).contains("tight");

        Reply o = fx.reply(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + TIGHT),
                CHAT.replace("300", "2500"));
        assertThat(o.status()).isEqualTo(429);
        assertThat(json(o.body()).at("/error/code").asText()).isEqualTo("token_budget_exceeded");
        assertThat(fx.reserved("tight")).isZero();
    }

    @Test
    void aRequestLargerThanTheWholeWindowGetsAFinal400InEachProvidersShapeWithoutRetryAfter() throws Exception {
        Reply o = fx.reply(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + TIGHT),
                CHAT.replace("300", "6000"));
        assertFinal(o);
        JsonNode e = json(o.body()).get("error");
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("code").asText()).isEqualTo("request_exceeds_budget_limit");
        assertThat(e.get("message").asText()).contains("budget 'tight'", "at most 5000 total tokens per day window",
                "needs 6");

        Reply a = fx.reply(TestRequest.post("/v1/messages", "x-api-key", TIGHT),
                MESSAGES.replace("\"max_tokens\":400", "\"max_tokens\":6000"));
        assertFinal(a);
        assertThat(json(a.body()).at("/error/type").asText()).isEqualTo("invalid_request_error");

        Reply g = fx.reply(TestRequest.post("/v1beta/models/gemini-2.5-pro:generateContent", "x-goog-api-key",
                TIGHT), "{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]}],"
                + "\"generationConfig\":{\"maxOutputTokens\":6000}}");
        assertFinal(g);
        assertThat(json(g.body()).at("/error/status").asText()).isEqualTo("INVALID_ARGUMENT");
        assertThat(json(g.body()).at("/error/code").asInt()).isEqualTo(400);

        // the largest ceiling a client can send (read as at most 2^53-1 tokens) is refused the same, without overflow
        Reply huge = fx.reply(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + TIGHT),
                CHAT.replace("300", Long.toString(Long.MAX_VALUE)));
        assertFinal(huge);
        assertThat(json(huge.body()).at("/error/message").asText()).contains("budget 'tight'")
                .containsPattern("needs [1-9][0-9]{15} total tokens");
        assertThat(fx.reserved("tight")).isZero();
        assertThat(fx.used("tight")).isZero();
    }

    private static void assertFinal(Reply r) {
        assertThat(r.status()).as(r.bodyText()).isEqualTo(400);
        assertThat(r.headers()).doesNotContainKey("Retry-After")
                .containsEntry(DecisionHeaders.ERROR_CODE, "request_exceeds_budget_limit")
                .containsEntry("x-tokenbudget-decision", "reject")
                .containsEntry("x-tokenbudget-budget", "tight")
                .containsEntry("RateLimit-Policy", "\"tight\";q=5000;w=86400");
    }

    @Test
    void forbiddenFeatureIs403() {
        Reply r = fx.reply(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + TIGHT,
                "x-tokenbudget-feature", "copilot"), CHAT);
        assertThat(r.status()).isEqualTo(403);
    }

    @Test
    void oversizedBodyIs413WithAClearMessage() throws Exception {
        GatewayFixture small = new GatewayFixture(GatewayOptions.custom().maxBodyBytes(100));
        Reply r = small.reply(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + MAIN),
                CHAT + " ".repeat(100));
        assertThat(r.status()).isEqualTo(413);
        assertThat(json(r.body()).at("/error/message").asText()).contains("100 bytes");
        assertThat(small.reserved("org")).isZero();
    }

    @Test
    void malformedJsonIs400AndReservesNothing() throws Exception {
        Reply r = fx.reply(TestRequest.post("/v1/messages", "x-api-key", MAIN), "{\"model\":\"claude\",\"max_");
        assertThat(r.status()).isEqualTo(400);
        assertThat(json(r.body()).at("/error/type").asText()).isEqualTo("invalid_request_error");
        assertThat(json(r.body()).at("/error/message").asText()).contains("not valid JSON");
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void duplicatedFieldsAreRefusedSoNoOneReadsTheBodyDifferently() throws Exception {
        Reply r = fx.reply(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + MAIN),
                "{\"model\":\"gpt-4.1\",\"max_tokens\":1,\"max_tokens\":900000,\"messages\":[]}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(json(r.body()).at("/error/message").asText()).contains("max_tokens");
    }

    @Test
    void negativeOrNonNumericCeilingIs400() throws Exception {
        for (String v : new String[] {"-5", "\"100\"", "1.5"}) {
            Reply r = fx.reply(TestRequest.post("/v1/messages", "x-api-key", MAIN),
                    MESSAGES.replace("400", v));
            assertThat(r.status()).as(v).isEqualTo(400);
            assertThat(json(r.body()).at("/error/message").asText()).as(v).contains("max_tokens");
        }
    }

    @Test
    void degradedRequestGetsCheaperModelClampedCeilingPromptVariantAndRouteHeader() throws Exception {
        String body = "{\"model\":\"gpt-4.1\",\"messages\":[{\"role\":\"system\",\"content\":\""
                + GatewayFixture.SUPPORT_PROMPT + "\"},{\"role\":\"user\",\"content\":\"Where is my order?\"}],"
                + "\"max_completion_tokens\":6000}";
        Forward f = fx.forward(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + CHEAP), body);
        assertThat(f.degraded()).isTrue();
        assertThat(f.model()).isEqualTo("gpt-4.1-mini");
        JsonNode sent = json(f.body());
        assertThat(sent.get("model").asText()).isEqualTo("gpt-4.1-mini");
        assertThat(sent.get("max_completion_tokens").asLong()).isEqualTo(256);
        assertThat(sent.at("/messages/0/content").asText()).isEqualTo(GatewayFixture.SUPPORT_SHORT);
        assertThat(sent.at("/messages/1/content").asText()).isEqualTo("Where is my order?");
        assertThat(f.setHeaders()).containsEntry("x-tokenbudget-route", "economy");
        assertThat(f.responseHeaders()).containsEntry("x-tokenbudget-decision", "degrade")
                .containsEntry("x-tokenbudget-degraded-model", "gpt-4.1-mini");
    }

    /** A chat completion of the cheap key asking for {@code ceiling} output tokens in {@code n} choices. */
    private Forward cheapChat(GatewayFixture on, long ceiling, int n) {
        return on.forward(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + CHEAP),
                "{\"model\":\"gpt-4.1\",\"n\":" + n + ",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                        + "\"max_completion_tokens\":" + ceiling + "}");
    }

    private static byte[] chatUsage(long input, long output) {
        return ("{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"gpt-4.1-mini\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"length\"}],"
                + "\"usage\":{\"prompt_tokens\":" + input + ",\"completion_tokens\":" + output + ",\"total_tokens\":"
                + (input + output) + "}}").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aDegradedRequestReservesOnlyTheCeilingItIsSentWithAndIsChargedWhatItReports() throws Exception {
        GatewayFixture.respond(cheapChat(fx, 300, 1), 200, "application/json", chatUsage(4800, 200), 64);
        assertThat(fx.used("cheap")).isEqualTo(5000);

        Forward f = cheapChat(fx, 6000, 1);
        assertThat(f.degraded()).isTrue();
        assertThat(f.ticket().requestedOutput()).isEqualTo(6000);
        assertThat(f.ticket().reservedOutput()).isEqualTo(256);
        assertThat(json(f.body()).get("max_completion_tokens").asLong()).isEqualTo(256);
        assertThat(f.responseHeaders()).containsEntry("x-tokenbudget-max-output-tokens", "256");
        assertThat(f.ticket().decision().message()).contains("output ceiling clamped from 6000 to 256 tokens");
        assertThat(fx.reserved("cheap")).isEqualTo(f.ticket().reservedInput() + 256);
        // a provider that ignored the ceiling is charged what it reports, above the reservation
        MeterResult m = GatewayFixture.respond(f, 200, "application/json", chatUsage(20, 400), 64);
        assertThat(m.charged().outputTokens()).isEqualTo(400);
        assertThat(fx.used("cheap")).isEqualTo(5420);
    }

    @Test
    void severalChoicesOrAHostThatCannotRewriteTheBodyReserveTheAskedCeiling() {
        GatewayFixture.respond(cheapChat(fx, 300, 1), 200, "application/json", chatUsage(4800, 200), 64);
        // the clamp holds per choice: two choices may use 2 x 256, so both 6,000s stay reserved
        Forward two = cheapChat(fx, 6000, 2);
        assertThat(two.degraded()).isTrue();
        assertThat(two.ticket().reservedOutput()).isEqualTo(12_000);
        two.meter().abort();

        GatewayFixture apisix = new GatewayFixture(GatewayOptions.custom().rewritesBodies(false));
        GatewayFixture.respond(cheapChat(apisix, 300, 1), 200, "application/json", chatUsage(4800, 200), 64);
        Forward one = cheapChat(apisix, 6000, 1);
        assertThat(one.degraded()).isTrue();
        assertThat(one.ticket().reservedOutput()).isEqualTo(6000);
        assertThat(one.ticket().decision().directive().maxOutputTokens()).isEqualTo(256);
    }

    @Test
    void degradedGeminiRequestChangesTheModelInThePathAndDropsTheQueryKey() {
        Forward f = fx.forward(TestRequest.post("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key="
                + CHEAP), "{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]}],"
                + "\"generationConfig\":{\"maxOutputTokens\":8000}}");
        assertThat(f.provider()).isEqualTo(Provider.GEMINI);
        assertThat(f.stream()).isTrue();
        assertThat(f.path()).isEqualTo("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
        assertThat(new String(f.body(), StandardCharsets.UTF_8)).contains("\"maxOutputTokens\":256");
        MeterResult m = GatewayFixture.respond(f, 200, "text/event-stream",
                Payloads.bytes("gemini/stream-generate-content.sse"), 64);
        assertThat(m.charged().outputTokens()).isEqualTo(117);
    }

    @Test
    void aKeyParameterIsRemovedFromTheUpstreamPathHoweverItsNameIsEncoded() {
        // found by the reliability module's VirtualKeyLeakTest: k%65y= reached the upstream, which decodes it
        for (String query : new String[] {"key=" + MAIN, "k%65y=" + MAIN, "%6B%65%79=" + MAIN, "a=1&key=" + MAIN
                + "&key=" + MAIN + "&b=2"}) {
            Forward f = fx.forward(TestRequest.post("/v1/chat/completions?" + query, "Authorization", "Bearer " + MAIN),
                    CHAT);
            String upstream = f.path() == null ? "/v1/chat/completions?" + query : f.path();
            assertThat(upstream).as(query).doesNotContain(MAIN).doesNotContain("%65");
            f.meter().abort();
        }
        assertThat(QueryKey.of("/v1beta/models/m:generateContent?k%65y=" + MAIN).value()).isEqualTo(MAIN);
    }

    @Test
    void abortBeforeAnyResponseReleasesTheReservation() {
        Forward f = fx.forward(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + MAIN), CHAT);
        assertThat(f.meter().abort().outcome()).isEqualTo(MeterResult.Outcome.RELEASED);
        assertThat(fx.used("org")).isZero();
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void streamCutAfterMessageStartSettlesSeenInputAndTheOutputCeiling() {
        Forward f = fx.forward(TestRequest.post("/v1/messages", "x-api-key", MAIN),
                MESSAGES.replace("}]}", "}],\"stream\":true}"));
        byte[] s = Payloads.bytes("anthropic/messages-stream.sse");
        String text = new String(s, StandardCharsets.UTF_8);
        int cut = text.indexOf("event: content_block_delta");
        f.meter().onResponseHeaders(200, "text/event-stream");
        f.meter().onBytes(s, 0, cut);
        MeterResult m = f.meter().abort();
        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.SETTLED_PARTIAL);
        assertThat(m.charged().inputTokens()).isEqualTo(Math.max(125, f.ticket().reservedInput()));
        assertThat(m.charged().outputTokens()).isEqualTo(400);
    }

    @Test
    void streamWithoutAnyUsageSettlesAtTheReservationAndSaysSo() {
        Forward f = fx.forward(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + MAIN), CHAT);
        byte[] s = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n"
                .getBytes(StandardCharsets.UTF_8);
        MeterResult m = GatewayFixture.respond(f, 200, "text/event-stream", s, 3);
        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.SETTLED_UNKNOWN);
        assertThat(fx.used("org")).isEqualTo(f.ticket().reservedInput() + f.ticket().reservedOutput());
        assertThat(fx.engine.events(BudgetEvent.UsageUnknown.class)).hasSize(1);
    }

    @Test
    void upstreamErrorWithoutUsageReleases() {
        Forward f = fx.forward(TestRequest.post("/v1/messages", "x-api-key", MAIN), MESSAGES);
        byte[] err = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"
                .getBytes(StandardCharsets.UTF_8);
        MeterResult m = GatewayFixture.respond(f, 529, "application/json", err, 10);
        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.RELEASED);
        assertThat(m.report().error()).isEqualTo("Overloaded");
        assertThat(fx.used("org")).isZero();
    }

    @Test
    void completeAndAbortAreIdempotentAndFirstWins() {
        Forward f = fx.forward(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + MAIN), CHAT);
        MeterResult first = GatewayFixture.respond(f, 200, "application/json", Payloads.bytes("openai/chat.json"),
                100);
        assertThat(f.meter().abort()).isSameAs(first);
        assertThat(f.meter().complete()).isSameAs(first);
        assertThat(fx.used("org")).isEqualTo(1218);
    }

    @Test
    void unmeteredEndpointsAreForwardedWithoutReservation() {
        TestRequest get = new TestRequest("GET", "/v1/models", java.util.Map.of("authorization", "Bearer " + MAIN));
        Identified id = (Identified) fx.gateway.identify(get);
        assertThat(id.metered()).isFalse();
        Forward f = (Forward) fx.gateway.admit(id, null);
        assertThat(f.ticket()).isNull();
        assertThat(f.setHeaders()).containsKey("authorization");
        assertThat(f.meter().complete().outcome()).isEqualTo(MeterResult.Outcome.NOT_METERED);
    }

    @Test
    void unknownPostIsRefusedRatherThanForwardedUnmetered() {
        Reply r = fx.reply(TestRequest.post("/v1/batches", "Authorization", "Bearer " + MAIN), "{}");
        assertThat(r.status()).isEqualTo(404);
    }

    @Test
    void missingUpstreamKeyInTheEnvironmentIsAClear500() {
        GatewayFixture noEnv = new GatewayFixture(GatewayOptions.custom());
        BudgetGateway g = new BudgetGateway(noEnv.engine.engine, GatewayOptions.custom().environment(n -> null)
                .prompt("support", GatewayFixture.SUPPORT_PROMPT).prompt("support-short", GatewayFixture.SUPPORT_SHORT)
                .build());
        Reply r = (Reply) g.identify(TestRequest.post("/v1/messages", "x-api-key", MAIN));
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.bodyText()).contains("anthropic").doesNotContain("TB_ANTHROPIC");
    }

    @Test
    void upstreamKeyFromTheEnvironmentIsKeptASecondAndReadAgainWhileMissing() {
        GatewayFixture fixture = new GatewayFixture(GatewayOptions.custom());
        java.util.Map<String, String> env = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicInteger lookups = new java.util.concurrent.atomic.AtomicInteger();
        BudgetGateway g = new BudgetGateway(fixture.engine.engine, GatewayOptions.custom().environment(n -> {
                    lookups.incrementAndGet();
                    return env.get(n);
                }).prompt("support", GatewayFixture.SUPPORT_PROMPT)
                .prompt("support-short", GatewayFixture.SUPPORT_SHORT).build());
        TestRequest chat = TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + MAIN);

        assertThat(((Reply) g.identify(chat)).status()).isEqualTo(500);
        assertThat(((Reply) g.identify(chat)).status()).isEqualTo(500);
        assertThat(lookups).hasValue(2); // a missing key is looked up on every request, so setting it takes effect
        env.put("TB_OPENAI", "sk-late");
        for (int i = 0; i < 3; i++) {
            assertThat(((Identified) g.identify(chat)).credential()).isEqualTo("sk-late");
        }
        assertThat(lookups).hasValue(3); // then kept: no lookup per request

        env.put("TB_OPENAI", "sk-rotated"); // a secret store rotates the key
        fixture.engine.clock.advance(java.time.Duration.ofMillis(999));
        assertThat(((Identified) g.identify(chat)).credential()).isEqualTo("sk-late");
        fixture.engine.clock.advance(java.time.Duration.ofMillis(1));
        assertThat(((Identified) g.identify(chat)).credential()).isEqualTo("sk-rotated");
        assertThat(lookups).hasValue(4);

        env.remove("TB_OPENAI");
        fixture.engine.clock.advance(java.time.Duration.ofSeconds(1));
        assertThat(((Reply) g.identify(chat)).status()).isEqualTo(500);
    }

    @Test
    void rejectedDecisionStatusComesFromTheEngine() {
        Reply r = fx.reply(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + TIGHT),
                CHAT.replace("300", "9000"));
        // more than tight's whole day: the engine's REQUEST_EXCEEDS_LIMIT, answered 400
        assertThat(r.status()).isEqualTo(400);
    }

    @Test
    void azureDeploymentInThePathIsReplacedWhenDegradedAndTheKeyComesFromApiKey() {
        String path = "/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21";
        Identified id = fx.identify(TestRequest.post(path, "api-key", CHEAP));
        assertThat(id.provider()).isEqualTo(Provider.AZURE_OPENAI);
        assertThat(id.pathModel()).isEqualTo("gpt-4.1");
        Forward f = (Forward) fx.gateway.admit(id, ("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"max_tokens\":6000}").getBytes(StandardCharsets.UTF_8));
        assertThat(f.degraded()).isTrue();
        assertThat(f.path()).isEqualTo("/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21");
        assertThat(new String(f.body(), StandardCharsets.UTF_8)).doesNotContain("\"model\"")
                .contains("\"max_tokens\":256");
        MeterResult m = GatewayFixture.respond(f, 200, "text/event-stream", Payloads.bytes("azure/chat-stream.sse"),
                11);
        assertThat(m.charged().totalTokens()).isEqualTo(60);
    }

    @Test
    void responsesStreamIsMeteredFromItsTerminalEvent() {
        Forward f = fx.forward(TestRequest.post("/v1/responses", "Authorization", "Bearer " + MAIN),
                "{\"model\":\"gpt-4.1\",\"input\":\"hi\",\"stream\":true}");
        assertThat(f.endpoint()).isEqualTo(Endpoint.RESPONSES);
        assertThat(f.body()).as("Responses streams always report usage: nothing to add").isNull();
        MeterResult m = GatewayFixture.respond(f, 200, "text/event-stream",
                Payloads.bytes("openai/responses-stream.sse"), 17);
        assertThat(m.charged().totalTokens()).isEqualTo(48);
    }

    @Test
    void aRouteMayForceTheProviderForAnOpenAiCompatibleServer() {
        Identified id = (Identified) fx.gateway.identify(TestRequest.post("/v1/chat/completions", "Authorization",
                "Bearer " + CHEAP), Provider.OPENAI_COMPATIBLE);
        assertThat(id.provider()).isEqualTo(Provider.OPENAI_COMPATIBLE);
        Forward f = (Forward) fx.gateway.admit(id, "{\"model\":\"llama\",\"messages\":[],\"max_tokens\":6000}"
                .getBytes(StandardCharsets.UTF_8));
        assertThat(f.setHeaders()).doesNotContainKey("authorization"); // no key configured for compatible servers
        assertThat(f.removeHeaders()).contains("authorization");
    }

    @Test
    void geminiKeyHeaderIsAcceptedAndReplaced() {
        GatewayFixture g = new GatewayFixture(GatewayOptions.custom().upstreamKey(Provider.GEMINI, "AIza-upstream"));
        Forward f = g.forward(TestRequest.post("/v1beta/models/gemini-2.5-flash:generateContent", "x-goog-api-key",
                MAIN), "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]}");
        assertThat(f.model()).isEqualTo("gemini-2.5-flash");
        assertThat(f.setHeaders()).containsEntry("x-goog-api-key", "AIza-upstream");
        assertThat(f.ticket().reservedOutput()).isEqualTo(1000);
        MeterResult m = GatewayFixture.respond(f, 200, "application/json",
                Payloads.bytes("gemini/generate-content.json"), 50);
        assertThat(m.charged().reasoningTokens()).isEqualTo(1021);
    }

    @Test
    void aBodyJustUnderTheBoundIsParsedAndEstimated() {
        String text = "word ".repeat(1_900_000);
        Forward f = fx.forward(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + MAIN),
                "{\"model\":\"gpt-4.1\",\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}],"
                        + "\"max_tokens\":10}");
        assertThat(f.ticket().reservedInput()).isBetween(1_500_000L, 3_000_000L);
        f.meter().abort();
    }

    @Test
    void invalidUtf8BodyIs400() {
        Identified id = fx.identify(TestRequest.post("/v1/messages", "x-api-key", MAIN));
        byte[] body = {'{', '"', 'm', 'o', 'd', 'e', 'l', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'};
        Reply r = (Reply) fx.gateway.admit(id, body);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.bodyText()).contains("not valid JSON");
    }
}
