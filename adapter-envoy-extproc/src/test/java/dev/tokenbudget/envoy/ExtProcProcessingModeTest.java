package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.GatewayFixture;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every processing mode a filter may be configured with: the ones the processor works with meter
 * exactly, the others are refused at the stream's first message with the setting to use.
 */
class ExtProcProcessingModeTest {

    private final ExtProcFixture fx = new ExtProcFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    private EnvoyRules responseBodies(BodySendMode mode) {
        return fx.rules.with(f -> f.getProcessingModeBuilder().setResponseBodyMode(mode));
    }

    @ParameterizedTest
    @EnumSource(value = BodySendMode.class, names = {"NONE", "STREAMED", "BUFFERED", "BUFFERED_PARTIAL"})
    void responseBodyModesThatShowTheBodyAreMeteredExactly(BodySendMode mode) {
        EnvoyRules filter = responseBodies(mode);
        // BUFFERED and BUFFERED_PARTIAL (under the buffer limit) send the body in one message
        int chunks = mode == BodySendMode.BUFFERED || mode == BodySendMode.BUFFERED_PARTIAL ? 1 : 5;
        try (EnvoyStream s = fx.stream(filter)) {
            var a = EnvoySequences.full(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                    payload("openai-chat-stream-request.json"), "text/event-stream", payload("openai-chat-stream.sse"),
                    chunks);
            // only a filter that sends no body is asked for it; the others would ignore the override
            assertThat(a.responseHeaders().hasModeOverride()).isEqualTo(mode == BodySendMode.NONE);
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isEqualTo(842 + 31);
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void fullDuplexStreamedResponseBodiesAreRefusedAtTheFirstMessage() {
        // Envoy ignores mode_override when either body mode is FULL_DUPLEX_STREAMED
        EnvoyRules filter = responseBodies(BodySendMode.FULL_DUPLEX_STREAMED)
                .with(f -> f.setAllowModeOverride(false).clearAllowedOverrideModes());
        EnvoyStream s = fx.stream(filter);
        s.send(requestHeaders(post("/v1/chat/completions", 10, bearer(GatewayFixture.MAIN)), false,
                filter.announced()));
        Status st = s.awaitClosed();
        assertThat(st.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(st.getDescription()).contains("FULL_DUPLEX_STREAMED").contains("response_body_mode");
        fx.awaitNoOpenStreams();
        assertThat(fx.reserved("org")).isZero();
    }

    @ParameterizedTest
    @EnumSource(value = BodySendMode.class, names = {"NONE", "STREAMED", "BUFFERED_PARTIAL", "FULL_DUPLEX_STREAMED"})
    void requestBodyModesOtherThanBufferedAreRefusedWithTheSettingToUse(BodySendMode mode) {
        EnvoyRules filter = fx.rules.with(f -> f.getProcessingModeBuilder().setRequestBodyMode(mode));
        EnvoyStream s = fx.stream(filter);
        s.send(requestHeaders(post("/v1/chat/completions", 10, bearer(GatewayFixture.MAIN)), false,
                filter.announced()));
        Status st = s.awaitClosed();
        assertThat(st.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(st.getDescription()).contains("request_body_mode: BUFFERED");
    }
}
