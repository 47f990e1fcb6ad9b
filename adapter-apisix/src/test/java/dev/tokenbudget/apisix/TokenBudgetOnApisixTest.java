package dev.tokenbudget.apisix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.store.TokenCounts;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TokenBudget in the real plugin runner, driven through its Unix socket exactly as APISIX drives
 * it, on the example routes of {@code examples/apisix/} with a loopback provider answering
 * recorded OpenAI and Anthropic responses.
 */
class TokenBudgetOnApisixTest extends RouteTestSupport {

    private static final ObjectMapper JSON = new ObjectMapper();


    @Test
    void admittedRequestGoesUpstreamWithTheProviderCredentialInsteadOfTheVirtualKeyAndSettlesItsUsage()
            throws Exception {
        openai.answer(FakeUpstream.Answer.ofResource(200, "application/json", "/payloads/openai-chat-response.json"));
        MiniApisix.Result r = openAiChat("sk-tb-apisix-support", payload("openai-chat-request.json"));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.upstream()).isSameAs(openai);
        assertThat(r.upstreamRequest().header("authorization")).isEqualTo("Bearer sk-upstream-openai-test");
        assertThat(r.upstreamRequest().header("x-tokenbudget-route")).isNull();
        assertThat(r.bodyText()).contains("chatcmpl-BvHd8Jq0xk1cTq2mY7sFqZ0aXk3Lp");
        // the logger's entry names the reservation by the header the filter set, and settles it
        assertThat(r.upstreamRequest().header(TokenBudgetPlugin.REQUEST_ID_HEADER)).hasSize(32);
        assertThat(r.logged()).isEqualTo(204);
        assertThat(used("support")).isEqualTo(TokenCounts.of(48, 27));
        assertThat(reserved("support")).isEqualTo(TokenCounts.ZERO);
        assertThat(used("acme")).isEqualTo(TokenCounts.of(48, 27));
        assertThat(plugin().inFlight()).isZero();
    }

    @Test
    void anthropicUsageIncludingCacheReadsIsSettledFromTheMessagesResponse() throws Exception {
        anthropic.answer(FakeUpstream.Answer.ofResource(200, "application/json",
                "/payloads/anthropic-messages-response.json"));
        try (MiniApisix apisix = anthropicRoute()) {
            MiniApisix.Result r = apisix.send("POST", "/v1/messages", anthropicHeaders("sk-tb-apisix-support"),
                    payload("anthropic-messages-request.json"));

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.upstreamRequest().header("x-api-key")).isEqualTo("sk-ant-upstream-test");
            assertThat(r.upstreamRequest().header("authorization")).isNull();
            assertThat(r.upstreamRequest().header("anthropic-version")).isEqualTo("2023-06-01");
        }
        // input counts every input token billed: 21 uncached + 1024 read from the cache
        assertThat(used("support")).isEqualTo(TokenCounts.of(21 + 1024, 38));
        assertThat(reserved("support")).isEqualTo(TokenCounts.ZERO);
    }

    @Test
    void streamedOpenAiResponseIsSettledFromTheUsageChunkOfTheLoggedBody() throws Exception {
        openai.answer(FakeUpstream.Answer.ofResource(200, "text/event-stream", "/payloads/openai-chat-stream.sse"));
        MiniApisix.Result r = openAiChat("sk-tb-apisix-support", payload("openai-chat-stream-request.json"));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyText()).endsWith("data: [DONE]\n\n");
        assertThat(used("support")).isEqualTo(TokenCounts.of(14, 9));
    }

    @Test
    void streamedAnthropicResponseIsSettledFromMessageStartAndTheFinalMessageDelta() throws Exception {
        anthropic.answer(FakeUpstream.Answer.ofResource(200, "text/event-stream",
                "/payloads/anthropic-messages-stream.sse"));
        try (MiniApisix apisix = anthropicRoute()) {
            apisix.send("POST", "/v1/messages", anthropicHeaders("sk-tb-apisix-support"),
                    payload("anthropic-messages-stream-request.json"));
        }
        assertThat(used("support")).isEqualTo(TokenCounts.of(21 + 1024, 17));
    }

    @Test
    void degradedRequestCarriesTheRouteLabelThatTrafficSplitSendsToTheEconomyUpstream() throws Exception {
        openaiEconomy.answer(FakeUpstream.Answer.ofResource(200, "application/json",
                "/payloads/openai-chat-response.json"));
        // the support budget (20,000 tokens) degrades from 50 percent: a 15,000-token ceiling crosses it
        byte[] big = withMaxTokens(payload("openai-chat-request.json"), 15_000);
        MiniApisix.Result r = openAiChat("sk-tb-apisix-support", big);

        assertThat(r.pre().rewriteHeaders()).containsEntry("x-tokenbudget-route", "economy");
        assertThat(r.upstream()).isSameAs(openaiEconomy);
        assertThat(openai.received()).isEmpty();
        FakeUpstream.Received up = r.upstreamRequest();
        assertThat(up.header("x-tokenbudget-route")).isEqualTo("economy");
        // the cheaper model in the body (Rewrite.body), and as a header for the economy service
        assertThat(up.header("x-tokenbudget-degraded-model")).isEqualTo("gpt-4.1-mini");
        assertThat(up.header("authorization")).isEqualTo("Bearer sk-upstream-openai-test");
        assertThat(new String(up.body(), StandardCharsets.UTF_8)).contains("gpt-4.1-mini")
                .doesNotContain("\"gpt-4.1\"");
        assertThat(r.status()).isEqualTo(200);
        assertThat(used("support")).isEqualTo(TokenCounts.of(48, 27));
    }

    @Test
    void exhaustedHardStopBudgetAnswers429WithRetryAfterRateLimitFieldsAndAnOpenAiShapedBody()
            throws Exception {
        // the agents budget allows 3,000 tokens a day and stops hard: with 2,000 spent, 2,500 more fit
        // its day but not what is left of it (a request larger than the whole day: NeverFitsOnApisixTest)
        spend("sk-tb-apisix-agents", 1000, 1000);
        byte[] body = withMaxTokens(payload("openai-chat-request.json"), 2_500);
        MiniApisix.Result r = openAiChat("sk-tb-apisix-agents", body);

        assertThat(r.status()).isEqualTo(429);
        assertThat(r.upstream()).isNull();
        assertThat(openai.received()).isEmpty();
        assertThat(r.header("content-type")).isEqualTo("application/json");
        assertThat(r.header("x-tokenbudget-decision")).isEqualTo("reject");
        assertThat(r.header("x-tokenbudget-budget")).isEqualTo("agents");
        assertThat(Long.parseLong(r.header("retry-after"))).isPositive();
        assertThat(r.header("ratelimit-policy")).startsWith("\"agents\";q=3000;w=");
        assertThat(r.header("ratelimit")).startsWith("\"agents\";r=");
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("token_budget_exceeded");
        assertThat(error.path("message").asText()).contains("agents");
        assertThat(used("agents")).isEqualTo(TokenCounts.of(1000, 1000));
        assertThat(reserved("agents")).isEqualTo(TokenCounts.ZERO);
    }

    @Test
    void aClientsOwnRequestIdHeaderIsReplacedSoItCannotSettleAnotherRequest() throws Exception {
        openai.answer(FakeUpstream.Answer.ofResource(200, "application/json", "/payloads/openai-chat-response.json"));
        Map<String, String> headers = new HashMap<>(openAiHeaders("sk-tb-apisix-support"));
        headers.put(TokenBudgetPlugin.REQUEST_ID_HEADER, "forged");
        try (MiniApisix apisix = openAiRoute()) {
            MiniApisix.Result r = apisix.send("POST", "/v1/chat/completions", headers,
                    payload("openai-chat-request.json"));
            assertThat(r.upstreamRequest().header(TokenBudgetPlugin.REQUEST_ID_HEADER)).isNotEqualTo("forged")
                    .hasSize(32);
        }
        assertThat(used("support")).isEqualTo(TokenCounts.of(48, 27));
    }

    @Test
    void unknownVirtualKeyIsAnswered401AndNeverReachesTheProvider() throws Exception {
        MiniApisix.Result r = openAiChat("sk-live-not-ours", payload("openai-chat-request.json"));

        assertThat(r.status()).isEqualTo(401);
        assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("invalid_api_key");
        assertThat(openai.received()).isEmpty();
    }

    @Test
    void requestWithoutBodyIsAnswered400AndReservesNothing() throws Exception {
        MiniApisix.Result r = openAiChat("sk-tb-apisix-support", null);

        assertThat(r.status()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).path("error").path("message").asText()).isNotBlank();
        assertThat(openai.received()).isEmpty();
        assertThat(reserved("support")).isEqualTo(TokenCounts.ZERO);
        assertThat(used("support")).isEqualTo(TokenCounts.ZERO);
    }

    @Test
    void upstreamErrorWithoutUsageReleasesTheReservation() throws Exception {
        openai.answer(FakeUpstream.Answer.ofResource(429, "application/json", "/payloads/openai-error-429.json"));
        MiniApisix.Result r = openAiChat("sk-tb-apisix-support", payload("openai-chat-request.json"));

        assertThat(r.status()).isEqualTo(429);
        assertThat(r.bodyText()).contains("rate_limit_exceeded");
        assertThat(used("support")).isEqualTo(TokenCounts.ZERO);
        assertThat(reserved("support")).isEqualTo(TokenCounts.ZERO);
    }

    private static byte[] withMaxTokens(byte[] body, int maxTokens) {
        String s = new String(body, StandardCharsets.UTF_8);
        return s.replaceFirst("\"max_tokens\": \\d+", "\"max_tokens\": " + maxTokens).getBytes(StandardCharsets.UTF_8);
    }
}
