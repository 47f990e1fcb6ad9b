package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.GatewayFixture;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.tokenbudget.envoy.EnvoyMessages.EXAMPLE_CONFIG;
import static dev.tokenbudget.envoy.EnvoyMessages.observed;
import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestBody;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.requestTrailers;
import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;
import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/** Malformed and out-of-order messages end their own stream with a gRPC error; the server goes on. */
class ExtProcProtocolErrorTest {

    private final ExtProcFixture fx = new ExtProcFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void messageWithoutAnyPartIsInvalidArgument() {
        EnvoyStream s = fx.stream();
        s.sendUnlikeEnvoy(ProcessingRequest.getDefaultInstance());
        Status st = s.awaitClosed();
        assertThat(st.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(st.getDescription()).contains("sets none of request_headers");
        assertStillServing();
    }

    @Test
    void responseBodyBeforeAnythingElseIsFailedPrecondition() {
        EnvoyStream s = fx.stream();
        s.sendUnlikeEnvoy(responseBody(new byte[] {1, 2, 3}, false));
        Status st = s.awaitClosed();
        assertThat(st.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(st.getDescription()).contains("response_body cannot come now").contains("REQUEST_HEADERS");
        assertStillServing();
    }

    @Test
    void secondRequestBodyAfterAdmissionFailsAndReleasesTheReservation() {
        EnvoyStream s = fx.stream();
        byte[] body = payload("openai-chat-request.json");
        EnvoySequences.request(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN), body);
        assertThat(fx.reserved("org")).isPositive();
        // a STREAMED body misdeclared as BUFFERED would look like this
        s.sendUnlikeEnvoy(requestBody(body, true));
        assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        fx.awaitNoOpenStreams();
        assertThat(fx.reserved("org")).isZero();
        assertThat(fx.used("org")).isZero();
        assertStillServing();
    }

    @Test
    void invalidStatusHeaderIsInvalidArgumentAndTheReservationIsClosed() {
        EnvoyStream s = fx.stream();
        EnvoySequences.request(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                payload("openai-chat-request.json"));
        s.sendUnlikeEnvoy(ProcessingRequest.newBuilder().setResponseHeaders(HttpHeaders.newBuilder().setHeaders(
                HeaderMap.newBuilder().addHeaders(HeaderValue.newBuilder().setKey(":status").setRawValue(
                        com.google.protobuf.ByteString.copyFromUtf8("2OO"))))).build());
        Status st = s.awaitClosed();
        assertThat(st.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(st.getDescription()).contains(":status");
        fx.awaitNoOpenStreams();
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void streamedRequestBodyModeIsRefusedWithTheSettingToUse() {
        EnvoyRules filter = fx.rules.with(f -> f.getProcessingModeBuilder().setRequestBodyMode(BodySendMode.STREAMED));
        EnvoyStream s = fx.stream(filter);
        ProtocolConfiguration streamed = filter.announced();
        s.send(requestHeaders(post("/v1/chat/completions", 10, bearer(GatewayFixture.MAIN)), false, streamed));
        Status st = s.awaitClosed();
        assertThat(st.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(st.getDescription()).contains("request_body_mode: BUFFERED");
    }

    @Test
    void requestTrailersWithoutABodyAreRefused() {
        // a filter that sends request trailers: an HTTP/2 request of headers and trailers only
        EnvoyStream s = fx.stream(fx.rules.with(f -> f.getProcessingModeBuilder()
                .setRequestTrailerMode(ProcessingMode.HeaderSendMode.SEND)));
        s.exchange(requestHeaders(post("/v1/chat/completions", 0, bearer(GatewayFixture.MAIN)), false,
                EXAMPLE_CONFIG));
        s.send(requestTrailers(Map.of("x-t", "1")));
        Status st = s.awaitClosed();
        assertThat(st.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(st.getDescription()).contains("request_trailer_mode: SKIP");
    }

    @Test
    void switchingObservabilityModeWithinAStreamIsInvalid() {
        EnvoyStream s = fx.stream();
        s.sendUnlikeEnvoy(observed(requestHeaders(post("/v1/chat/completions", 10, bearer(GatewayFixture.MAIN)),
                false, null)));
        s.sendUnlikeEnvoy(requestBody(new byte[] {'{', '}'}, true));
        assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void garbageRequestBodyIsAnsweredWithAProviderShaped400NotAStreamError() {
        try (EnvoyStream s = fx.stream()) {
            var r = EnvoySequences.request(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                    new byte[] {'{', '"', 'm', (byte) 0xff, '"'});
            assertThat(r[1].getImmediateResponse().getStatus().getCodeValue()).isEqualTo(400);
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        }
    }

    /** After any of the above, a well-formed exchange on the same channel still works. */
    private void assertStillServing() {
        try (EnvoyStream s = fx.stream()) {
            var a = EnvoySequences.full(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                    payload("openai-chat-request.json"), "application/json", payload("openai-chat-response.json"), 2);
            assertThat(a.responseBody()).hasSize(2);
        }
    }
}
