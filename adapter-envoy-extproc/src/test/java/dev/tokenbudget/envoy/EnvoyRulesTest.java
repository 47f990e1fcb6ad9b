package dev.tokenbudget.envoy;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestBody;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Envoy-side rules refuse what Envoy refuses: the fixture every ext_proc test runs through can fail. */
class EnvoyRulesTest {

    private final AtomicLong now = new AtomicLong();
    private final EnvoyRules rules = EnvoyRules.example(now::get);

    private EnvoyFilter afterRequestHeaders(int contentLength) {
        EnvoyFilter f = rules.filter();
        f.sent(requestHeaders(post("/v1/chat/completions", contentLength, Map.of()), false, rules.announced()));
        return f;
    }

    private static ProcessingResponse requestHeadersAnswer(CommonResponse c) {
        return Answers.requestHeaders(c);
    }

    @Test
    void headerValueInValueInsteadOfRawValueIsRefused() {
        EnvoyFilter f = afterRequestHeaders(2);
        HeaderMutation m = HeaderMutation.newBuilder().addSetHeaders(HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey("authorization").setValue("Bearer x"))
                .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)).build();
        assertThatThrownBy(() -> f.answered(requestHeadersAnswer(CommonResponse.newBuilder().setHeaderMutation(m)
                .build()))).hasMessageContaining("raw_value");
    }

    @Test
    void removingAPseudoHeaderOrChangingTheAuthorityFailsWithDisallowIsError() {
        EnvoyFilter f = afterRequestHeaders(2);
        assertThatThrownBy(() -> f.answered(requestHeadersAnswer(CommonResponse.newBuilder()
                .setHeaderMutation(HeaderMaps.mutation(Map.of(), List.of(":path"))).build())))
                .hasMessageContaining("remove :path").hasMessageContaining("disallow_is_error");
        EnvoyFilter g = afterRequestHeaders(2);
        assertThatThrownBy(() -> g.answered(requestHeadersAnswer(CommonResponse.newBuilder()
                .setHeaderMutation(HeaderMaps.mutation(Map.of(":authority", "evil.example"), List.of())).build())))
                .hasMessageContaining("set :authority");
    }

    @Test
    void clearRouteCacheWithoutAHeaderMutationIsIgnoredByEnvoy() {
        EnvoyFilter f = afterRequestHeaders(2);
        assertThatThrownBy(() -> f.answered(requestHeadersAnswer(CommonResponse.newBuilder().setClearRouteCache(true)
                .build()))).hasMessageContaining("clear_route_cache_ignored");
    }

    @Test
    void aBufferedBodyAnswerStillChangesTheHeadersButAStreamedOneDoesNot() {
        // BUFFERED: the headers wait for the body's answer, whose header mutation and body go upstream
        EnvoyFilter f = afterRequestHeaders(2);
        f.answered(Answers.continueRequestHeaders());
        f.sent(requestBody(new byte[] {'{', '}'}, true));
        f.answered(Answers.requestBody(CommonResponse.newBuilder()
                .setHeaderMutation(HeaderMaps.mutation(Map.of("authorization", "AWS4-HMAC-SHA256 x",
                        "content-length", "7"), List.of()))
                .setBodyMutation(BodyMutation.newBuilder().setBody(ByteString.copyFromUtf8("{\"a\":1}"))).build()));
        EnvoyFilter.UpstreamRequest up = f.upstreamRequest("bedrock-runtime.us-east-1.amazonaws.com");
        assertThat(HeaderMaps.first(up.headers(), "authorization")).isEqualTo("AWS4-HMAC-SHA256 x");
        assertThat(HeaderMaps.first(up.headers(), ":authority")).isEqualTo("bedrock-runtime.us-east-1.amazonaws.com");
        assertThat(new String(up.body(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
        // STREAMED: the headers went upstream with the headers' answer; a body answer cannot sign them any more
        EnvoyRules streamed = rules.with(r -> r.setProcessingMode(r.getProcessingMode().toBuilder()
                .setRequestBodyMode(BodySendMode.STREAMED)));
        EnvoyFilter g = streamed.filter();
        g.sent(requestHeaders(post("/v1/chat/completions", 2, Map.of()), false, streamed.announced()));
        g.answered(Answers.continueRequestHeaders());
        g.sent(requestBody(new byte[] {'{', '}'}, true));
        assertThatThrownBy(() -> g.answered(Answers.requestBody(CommonResponse.newBuilder()
                .setHeaderMutation(HeaderMaps.mutation(Map.of("authorization", "AWS4-HMAC-SHA256 x"), List.of()))
                .build()))).hasMessageContaining("drops the header_mutation");
    }

    @Test
    void bodyMutationMustMatchTheContentLength() {
        EnvoyFilter f = afterRequestHeaders(2);
        f.answered(Answers.continueRequestHeaders());
        f.sent(requestBody(new byte[] {'{', '}'}, true));
        assertThatThrownBy(() -> f.answered(Answers.requestBody(CommonResponse.newBuilder()
                .setBodyMutation(BodyMutation.newBuilder().setBody(ByteString.copyFromUtf8("{\"a\":1}"))).build())))
                .hasMessageContaining("mismatch between content length");
    }

    @Test
    void modeOverrideOutsideTheAllowedModesIsIgnoredAndTheResponseBodyNeverSent() {
        EnvoyFilter f = afterRequestHeaders(2);
        f.answered(Answers.continueRequestHeaders());
        f.sent(requestBody(new byte[] {'{', '}'}, true));
        f.answered(Answers.continueRequestBody());
        f.sent(responseHeaders(200, "application/json", false));
        ProcessingResponse buffered = Answers.responseHeaders(Map.of(), true).toBuilder()
                .setModeOverride(ProcessingModes.METERED_RESPONSE.toBuilder().setResponseBodyMode(BodySendMode.BUFFERED))
                .build();
        assertThatThrownBy(() -> f.answered(buffered)).hasMessageContaining("allowed_override_modes");
        assertThatThrownBy(() -> f.sent(responseBody(new byte[] {1}, true))).hasMessageContaining("response_body");
    }

    @Test
    void anAnswerAfterTheMessageTimeoutIsA504UnlessTheTimerWasExtendedWithinTheMaximum() {
        EnvoyFilter f = afterRequestHeaders(2);
        now.addAndGet(rules.messageTimeout().toNanos() + 1);
        assertThatThrownBy(() -> f.answered(Answers.continueRequestHeaders()))
                .hasMessageContaining("per-message_timeout_exceeded");

        EnvoyRules extendable = rules.with(b -> b.setMaxMessageTimeout(Durations.fromSeconds(5)));
        EnvoyFilter g = extendable.filter();
        g.sent(requestHeaders(post("/v1/chat/completions", 2, Map.of()), false, extendable.announced()));
        ProcessingResponse more = ProcessingResponse.newBuilder()
                .setOverrideMessageTimeout(Durations.fromSeconds(5)).build();
        assertThat(g.answered(more)).isEqualTo(EnvoyRules.Outcome.TIMER_RESTARTED);
        now.addAndGet(rules.messageTimeout().toNanos() * 3);
        assertThat(g.answered(Answers.continueRequestHeaders())).isEqualTo(EnvoyRules.Outcome.APPLIED);
        // beyond max_message_timeout, or a second time for one message: ignored
        g.sent(requestBody(new byte[] {'{', '}'}, true));
        assertThatThrownBy(() -> g.answered(ProcessingResponse.newBuilder()
                .setOverrideMessageTimeout(Durations.fromSeconds(6)).build())).hasMessageContaining("max_message_timeout");
    }

    @Test
    void anOverrideCarryingAnAnswerLosesTheAnswer() {
        EnvoyRules extendable = rules.with(b -> b.setMaxMessageTimeout(Durations.fromSeconds(5)));
        EnvoyFilter g = extendable.filter();
        g.sent(requestHeaders(post("/v1/chat/completions", 2, Map.of()), false, extendable.announced()));
        assertThatThrownBy(() -> g.answered(Answers.continueRequestHeaders().toBuilder()
                .setOverrideMessageTimeout(Durations.fromSeconds(2)).build())).hasMessageContaining("dropped");
    }

    @Test
    void fullDuplexResponseBodiesNeedStreamedResponsesNotAPlainContinue() {
        EnvoyRules duplex = rules.with(b -> b.setAllowModeOverride(false).clearAllowedOverrideModes()
                .getProcessingModeBuilder().setResponseBodyMode(BodySendMode.FULL_DUPLEX_STREAMED));
        EnvoyFilter f = duplex.filter();
        f.sent(requestHeaders(post("/v1/chat/completions", 2, Map.of()), false, duplex.announced()));
        f.answered(Answers.continueRequestHeaders());
        f.sent(requestBody(new byte[] {'{', '}'}, true));
        f.answered(Answers.continueRequestBody());
        f.sent(responseHeaders(200, "application/json", false));
        f.answered(Answers.responseHeaders(Map.of(), false));
        f.sent(responseBody(new byte[] {1}, true));
        assertThatThrownBy(() -> f.answered(Answers.continueResponseBody()))
                .hasMessageContaining("FULL_DUPLEX_STREAMED").hasMessageContaining("spurious");
    }

    @Test
    void appliedMutationsShowTheHeadersEnvoyForwards() {
        EnvoyFilter f = afterRequestHeaders(2);
        f.answered(requestHeadersAnswer(CommonResponse.newBuilder().setHeaderMutation(HeaderMaps.mutation(
                Map.of("x-tokenbudget-route", "economy"), List.of("user-agent"))).setClearRouteCache(true).build()));
        assertThat(f.requestHeaders()).containsEntry("x-tokenbudget-route", List.of("economy"))
                .doesNotContainKey("user-agent");
        assertThat(f.routeCleared()).isTrue();
    }
}
