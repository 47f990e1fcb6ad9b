package dev.tokenbudget.envoy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.engine.DecisionHeaders;
import dev.tokenbudget.gateway.GatewayFixture;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static dev.tokenbudget.envoy.EnvoyMessages.EXAMPLE_CONFIG;
import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoySequences.anthropicKey;
import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whole exchanges over a real gRPC channel, in exactly the message order Envoy uses with
 * examples/envoy/envoy.yaml, for OpenAI and Anthropic, JSON and SSE, response bodies in chunks.
 */
class ExtProcExchangeTest {

    private final ExtProcFixture fx = new ExtProcFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void openAiJsonIsAdmittedWithTheUpstreamKeyAndSettledWithTheReportedUsage() {
        try (EnvoyStream s = fx.stream()) {
            var a = EnvoySequences.full(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                    payload("openai-chat-request.json"), "application/json", payload("openai-chat-response.json"), 4);

            // headers: nothing to do until the body is there
            assertThat(a.requestHeaders().getRequestHeaders().getResponse()).isEqualTo(CommonResponse.getDefaultInstance());
            // body: virtual key out, provider key in, body untouched, route untouched
            CommonResponse body = a.requestBody().getRequestBody().getResponse();
            assertThat(Mutations.set(body.getHeaderMutation()))
                    .containsEntry("authorization", "Bearer " + GatewayFixture.UPSTREAM_OPENAI)
                    .doesNotContainKey(DecisionHeaders.ROUTE);
            assertThat(body.getHeaderMutation().getRemoveHeadersList()).contains("x-api-key", "api-key", "x-goog-api-key")
                    .doesNotContain("authorization");
            assertThat(body.hasBodyMutation()).isFalse();
            assertThat(body.getClearRouteCache()).isFalse();
            // response headers: budget headers for the client, and the body asked for
            HeadersResponse rh = a.responseHeaders().getResponseHeaders();
            assertThat(Mutations.set(rh.getResponse().getHeaderMutation()))
                    .containsEntry(DecisionHeaders.DECISION, "allow").containsKey(DecisionHeaders.REMAINING);
            assertThat(a.responseHeaders().getModeOverride()).isEqualTo(ProcessingModes.METERED_RESPONSE);
            assertThat(a.responseBody()).hasSize(4).allSatisfy(r -> assertThat(r.hasResponseBody()).isTrue());
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isEqualTo(1187 + 46);
        assertThat(fx.used("copilot")).isEqualTo(1187 + 46);
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void openAiSseStreamIsMeteredAcrossChunksAndSettledFromItsUsageChunk() {
        try (EnvoyStream s = fx.stream()) {
            var a = EnvoySequences.full(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                    payload("openai-chat-stream-request.json"), "text/event-stream",
                    payload("openai-chat-stream.sse"), 9);
            // include_usage already asked for: the body goes unchanged
            assertThat(a.requestBody().getRequestBody().getResponse().hasBodyMutation()).isFalse();
            assertThat(a.responseBody()).hasSize(9);
            // the chunks pass untouched
            assertThat(a.responseBody()).allSatisfy(r -> assertThat(r.getResponseBody().getResponse()
                    .hasBodyMutation()).isFalse());
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isEqualTo(842 + 31);
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void openAiStreamWithoutIncludeUsageIsRewrittenToAskForItWithAMatchingContentLength() {
        byte[] request = """
                {"model":"gpt-4.1","stream":true,"max_tokens":200,"messages":[{"role":"user","content":"Hi"}]}"""
                .getBytes(StandardCharsets.UTF_8);
        try (EnvoyStream s = fx.stream()) {
            ProcessingResponse[] r = EnvoySequences.request(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                    request);
            CommonResponse c = r[1].getRequestBody().getResponse();
            byte[] rewritten = c.getBodyMutation().getBody().toByteArray();
            JsonNode json = Mutations.json(rewritten);
            assertThat(json.path("stream_options").path("include_usage").asBoolean()).isTrue();
            assertThat(json.path("messages").get(0).path("content").asText()).isEqualTo("Hi");
            assertThat(Mutations.set(c.getHeaderMutation()))
                    .containsEntry("content-length", Integer.toString(rewritten.length));
        }
    }

    @Test
    void anthropicJsonIsAdmittedWithTheAnthropicKeyAndSettledIncludingCacheTokens() {
        try (EnvoyStream s = fx.stream()) {
            var a = EnvoySequences.full(s, "/v1/messages", anthropicKey(GatewayFixture.MAIN),
                    payload("anthropic-messages-request.json"), "application/json",
                    payload("anthropic-messages-response.json"), 3);
            CommonResponse body = a.requestBody().getRequestBody().getResponse();
            assertThat(Mutations.set(body.getHeaderMutation()))
                    .containsEntry("x-api-key", GatewayFixture.UPSTREAM_ANTHROPIC);
            assertThat(body.getHeaderMutation().getRemoveHeadersList()).contains("authorization");
        }
        fx.awaitNoOpenStreams();
        // input counts cache writes and reads: 312 + 1500 + 2048
        assertThat(fx.used("org")).isEqualTo(312 + 1500 + 2048 + 57);
    }

    @Test
    void anthropicSseStreamIsSettledFromMessageStartAndTheFinalMessageDelta() {
        try (EnvoyStream s = fx.stream()) {
            EnvoySequences.full(s, "/v1/messages", anthropicKey(GatewayFixture.MAIN),
                    payload("anthropic-messages-stream-request.json"), "text/event-stream; charset=utf-8",
                    payload("anthropic-messages-stream.sse"), 11);
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isEqualTo(425 + 1024 + 38);
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void unknownVirtualKeyGetsAnImmediate401ShapedLikeTheProvidersError() {
        try (EnvoyStream s = fx.stream()) {
            ProcessingResponse r = s.exchange(requestHeaders(post("/v1/chat/completions", 10,
                    bearer("sk-tb-nobody")), false, EXAMPLE_CONFIG));
            ImmediateResponse ir = r.getImmediateResponse();
            assertThat(ir.getStatus().getCodeValue()).isEqualTo(401);
            assertThat(Mutations.set(ir.getHeaders())).containsEntry("content-type", "application/json");
            assertThat(Mutations.json(ir.getBody().toByteArray()).path("error").path("message").asText())
                    .contains("invalid API key");
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        }
    }

    /** The immediate response to a chat request of {@code maxTokens} with the tight budget's key. */
    private ImmediateResponse refusedTightChat(int maxTokens) {
        byte[] body = ("{\"model\":\"gpt-4.1\",\"max_tokens\":" + maxTokens
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"Write a novel.\"}]}")
                .getBytes(StandardCharsets.UTF_8);
        try (EnvoyStream s = fx.stream()) {
            ProcessingResponse[] r = EnvoySequences.request(s, "/v1/chat/completions", bearer(GatewayFixture.TIGHT),
                    body);
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
            return r[1].getImmediateResponse();
        }
    }

    @Test
    void exhaustedHardStopBudgetGetsAn429WithRetryAfterAndNothingReserved() {
        // 3,000 of tight's 5,000 a day spent: 2,500 more fit its day, not what is left of it
        var spent = fx.engine.reserve(GatewayFixture.TIGHT, null, 100, 100);
        fx.engine.engine.settle(spent, dev.tokenbudget.usage.TokenUsage.of(1500, 1500));
        ImmediateResponse ir = refusedTightChat(2500);
        assertThat(ir.getStatus().getCodeValue()).isEqualTo(429);
        Map<String, String> h = Mutations.set(ir.getHeaders());
        // the engine's clock stands at 09:00 UTC and the window is a UTC day: it resets in 15 hours
        assertThat(h).containsEntry("retry-after", "54000").containsEntry(DecisionHeaders.DECISION, "reject");
        assertThat(Mutations.json(ir.getBody().toByteArray()).path("error").path("code").asText())
                .isEqualTo("token_budget_exceeded");
        assertThat(fx.reserved("tight")).isZero();
        assertThat(fx.used("tight")).isEqualTo(3000);
    }

    @Test
    void aRequestLargerThanTheWholeDayGetsAFinal400WithoutRetryAfter() {
        ImmediateResponse ir = refusedTightChat(6000);
        assertThat(ir.getStatus().getCodeValue()).isEqualTo(400);
        assertThat(Mutations.set(ir.getHeaders())).doesNotContainKey("retry-after")
                .containsEntry("x-tokenbudget-error-code", "request_exceeds_budget_limit")
                .containsEntry(DecisionHeaders.DECISION, "reject");
        var error = Mutations.json(ir.getBody().toByteArray()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("request_exceeds_budget_limit");
        assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.path("message").asText()).contains("budget 'tight'", "at most 5000 total tokens per day");
        assertThat(fx.reserved("tight")).isZero();
        assertThat(fx.used("tight")).isZero();
    }

    @Test
    void degradedRequestGetsTheCheaperModelTheRouteLabelAndARouteRecomputation() {
        // spend 60% of the cheap budget: past its degrade_route threshold at 50%
        var t = fx.engine.reserve(GatewayFixture.CHEAP, null, 100, 100);
        fx.engine.engine.settle(t, dev.tokenbudget.usage.TokenUsage.of(3000, 3000));
        byte[] request = payload("openai-chat-request.json");
        try (EnvoyStream s = fx.stream()) {
            ProcessingResponse[] r = EnvoySequences.request(s, "/v1/chat/completions", bearer(GatewayFixture.CHEAP),
                    request);
            CommonResponse c = r[1].getRequestBody().getResponse();
            JsonNode json = Mutations.json(c.getBodyMutation().getBody().toByteArray());
            assertThat(json.path("model").asText()).isEqualTo("gpt-4.1-mini");
            assertThat(json.path("max_tokens").asLong()).isLessThanOrEqualTo(256);
            // the prompt registered in the engine's YAML (prompts:) is swapped for its variant
            assertThat(json.at("/messages/0/content").asText()).isEqualTo(GatewayFixture.SUPPORT_SHORT);
            assertThat(json.at("/messages/1/content").asText()).startsWith("My invoice from March");
            Map<String, String> set = Mutations.set(c.getHeaderMutation());
            assertThat(set).containsEntry(DecisionHeaders.ROUTE, "economy")
                    .containsEntry("content-length", Integer.toString(c.getBodyMutation().getBody().size()))
                    .containsEntry("authorization", "Bearer " + GatewayFixture.UPSTREAM_OPENAI);
            assertThat(c.getClearRouteCache()).isTrue();
        }
    }

    @Test
    void aRouteLabelSentByTheClientIsRemovedAndTheRouteChosenAgain() {
        Map<String, String> client = bearer(GatewayFixture.MAIN);
        client.put(DecisionHeaders.ROUTE, "economy");
        try (EnvoyStream s = fx.stream()) {
            ProcessingResponse[] r = EnvoySequences.request(s, "/v1/chat/completions", client,
                    payload("openai-chat-request.json"));
            CommonResponse c = r[1].getRequestBody().getResponse();
            assertThat(c.getHeaderMutation().getRemoveHeadersList()).contains(DecisionHeaders.ROUTE);
            assertThat(c.getClearRouteCache()).isTrue();
        }
    }

    @Test
    void geminiKeyInTheQueryIsTakenOutOfThePathAndTheRouteChosenAgain() {
        byte[] request = """
                {"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"maxOutputTokens":100}}"""
                .getBytes(StandardCharsets.UTF_8);
        try (EnvoyStream s = fx.stream()) {
            ProcessingResponse[] r = EnvoySequences.request(s,
                    "/v1beta/models/gemini-2.5-pro:generateContent?key=" + GatewayFixture.MAIN, Map.of(), request);
            CommonResponse c = r[1].getRequestBody().getResponse();
            assertThat(Mutations.set(c.getHeaderMutation()))
                    .containsEntry(":path", "/v1beta/models/gemini-2.5-pro:generateContent");
            assertThat(c.getClearRouteCache()).isTrue();
        }
    }
}
