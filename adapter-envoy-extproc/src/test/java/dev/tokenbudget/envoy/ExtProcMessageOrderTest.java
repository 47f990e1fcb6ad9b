package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.GatewayFixture;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.tokenbudget.envoy.EnvoyMessages.EXAMPLE_CONFIG;
import static dev.tokenbudget.envoy.EnvoyMessages.observed;
import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestBody;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.requestTrailers;
import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.responseTrailers;
import static dev.tokenbudget.envoy.EnvoyMessages.split;
import static dev.tokenbudget.envoy.EnvoySequences.anthropicKey;
import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/** The other orders Envoy may send: no body, trailers, no response, resets, observability mode. */
class ExtProcMessageOrderTest {

    private final ExtProcFixture fx = new ExtProcFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void requestWithoutBodyIsAdmittedOnItsHeadersAndItsResponseIsNotAskedFor() {
        Map<String, String> get = new LinkedHashMap<>();
        get.put(":authority", "llm.acme.internal");
        get.put(":path", "/v1/models");
        get.put(":method", "GET");
        get.put(":scheme", "http");
        get.putAll(bearer(GatewayFixture.MAIN));
        try (EnvoyStream s = fx.stream()) {
            ProcessingResponse h = s.exchange(requestHeaders(get, true, EXAMPLE_CONFIG));
            CommonResponse c = h.getRequestHeaders().getResponse();
            assertThat(Mutations.set(c.getHeaderMutation()))
                    .containsEntry("authorization", "Bearer " + GatewayFixture.UPSTREAM_OPENAI);
            ProcessingResponse rh = s.exchange(responseHeaders(200, "application/json", false));
            assertThat(rh.hasResponseHeaders()).isTrue();
            assertThat(rh.hasModeOverride()).isFalse(); // a model list spends no tokens
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isZero();
    }

    @Test
    void bufferedBodyFollowedByTrailersIsAdmittedAndTheTrailersAnswered() {
        byte[] body = payload("openai-chat-request.json");
        // the example skips request trailers; a filter that sends them (Filter::onTrailers: the
        // buffered body goes first, end_of_stream false, then the trailers)
        try (EnvoyStream s = fx.stream(fx.rules.with(f -> f.getProcessingModeBuilder()
                .setRequestTrailerMode(io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode
                        .HeaderSendMode.SEND)))) {
            s.exchange(requestHeaders(post("/v1/chat/completions", body.length, bearer(GatewayFixture.MAIN)), false,
                    EXAMPLE_CONFIG));
            ProcessingResponse b = s.exchange(requestBody(body, false));
            assertThat(Mutations.set(b.getRequestBody().getResponse().getHeaderMutation())).containsKey("authorization");
            assertThat(s.exchange(requestTrailers(Map.of("x-checksum", "abc"))).hasRequestTrailers()).isTrue();
            s.exchange(responseHeaders(200, "application/json", false));
            for (byte[] part : split(payload("openai-chat-response.json"), 3)) {
                s.exchange(responseBody(part, false));
            }
            // the response ends with trailers instead of an end_of_stream chunk
            assertThat(s.exchange(responseTrailers(Map.of("x-upstream-done", "1"))).hasResponseTrailers()).isTrue();
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isEqualTo(1187 + 46);
    }

    @Test
    void envoysOwnLocalReplyDuringTheRequestBodyIsAnsweredAsItIsAndNothingIsHeld() {
        try (EnvoyStream s = fx.stream()) {
            s.exchange(requestHeaders(post("/v1/chat/completions", 12_000_000, bearer(GatewayFixture.MAIN)), false,
                    EXAMPLE_CONFIG));
            // the body outgrows per_connection_buffer_limit_bytes: Envoy answers 413 itself, and its
            // local reply passes the filter's encodeHeaders before any request body was sent
            ProcessingResponse rh = s.exchange(responseHeaders(413, "text/plain", false));
            assertThat(rh.hasResponseHeaders()).isTrue();
            assertThat(rh.hasModeOverride()).isFalse();
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
            // Envoy's 413 reaches the client: no immediate response, no ext_proc error replaced it
            assertThat(s.envoy().localReply()).isEqualTo(-1);
            assertThat(s.envoy().responseHeaders()).containsEntry(":status", List.of("413"));
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.reserved("org")).isZero();
        assertThat(fx.used("org")).isZero();
    }

    @Test
    void responseWithoutBodyIsSettledOnItsHeaders() {
        try (EnvoyStream s = fx.stream()) {
            EnvoySequences.request(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                    payload("openai-chat-request.json"));
            ProcessingResponse rh = s.exchange(responseHeaders(204, null, true));
            assertThat(rh.hasModeOverride()).isFalse();
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        }
        fx.awaitNoOpenStreams();
        // a 2xx without usage: charged at the reservation, never zero
        assertThat(fx.used("org")).isPositive();
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void requestThatNeverGetsAResponseIsReleasedWhenEnvoyEndsTheStream() {
        EnvoyStream s = fx.stream();
        EnvoySequences.request(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                payload("openai-chat-request.json"));
        assertThat(fx.reserved("org")).isPositive();
        s.finish(); // upstream connect failure / timeout: Envoy's local reply, filter destroyed
        fx.awaitNoOpenStreams();
        assertThat(fx.reserved("org")).isZero();
        assertThat(fx.used("org")).isZero();
    }

    @Test
    void streamResetMidResponseSettlesWhatWasSeenNeverLessThanTheReservation() {
        List<byte[]> parts = split(payload("anthropic-messages-stream.sse"), 6);
        EnvoyStream s = fx.stream();
        EnvoySequences.request(s, "/v1/messages", anthropicKey(GatewayFixture.MAIN),
                payload("anthropic-messages-stream-request.json"));
        long reserved = fx.reserved("org");
        s.exchange(responseHeaders(200, "text/event-stream", false));
        s.exchange(responseBody(parts.get(0), false)); // message_start: input is known
        s.exchange(responseBody(parts.get(1), false));
        s.cancel(); // the client went away
        fx.awaitNoOpenStreams();
        assertThat(fx.reserved("org")).isZero();
        // cut before message_delta: output may have run to the ceiling, so at least the reservation
        assertThat(fx.used("org")).isGreaterThanOrEqualTo(reserved).isGreaterThanOrEqualTo(425 + 1024 + 1024);
    }

    @Test
    void upstreamErrorStatusWithoutUsageReleasesTheReservation() {
        byte[] error = """
                {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"""
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (EnvoyStream s = fx.stream()) {
            EnvoySequences.request(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                    payload("openai-chat-request.json"));
            s.exchange(responseHeaders(500, "application/json", false));
            s.exchange(responseBody(error, true));
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isZero();
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void observabilityModeMetersEverythingAndAnswersNothing() {
        byte[] body = payload("openai-chat-stream-request.json");
        EnvoyStream s = fx.stream(observing());
        s.send(observed(requestHeaders(post("/v1/chat/completions", body.length, bearer(GatewayFixture.MAIN)), false,
                null)));
        for (byte[] part : split(body, 3)) {
            s.send(observed(requestBody(part, false)));
        }
        s.send(observed(requestBody(new byte[0], true)));
        s.send(observed(responseHeaders(200, "text/event-stream", false)));
        List<byte[]> parts = split(payload("openai-chat-stream.sse"), 5);
        for (int i = 0; i < parts.size(); i++) {
            s.send(observed(responseBody(parts.get(i), i == parts.size() - 1)));
        }
        // the processor closes the stream once the response is metered, without a single answer
        assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        assertThat(s.pendingAnswers()).isZero();
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isEqualTo(842 + 31);
    }

    @Test
    void observabilityModeWithAnUnknownKeyClosesTheStreamWithoutAnswering() {
        EnvoyStream s = fx.stream(observing());
        s.send(observed(requestHeaders(post("/v1/chat/completions", 2, bearer("sk-nobody")), false, null)));
        assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        assertThat(s.pendingAnswers()).isZero();
    }

    /** A filter in observability mode: bodies STREAMED, as Envoy requires there (ext_proc.cc sendDataInObservabilityMode). */
    private EnvoyRules observing() {
        return fx.rules.with(f -> f.setObservabilityMode(true).getProcessingModeBuilder()
                .setRequestBodyMode(BodySendMode.STREAMED).setResponseBodyMode(BodySendMode.STREAMED));
    }
}
