package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.GatewayFixture;
import dev.tokenbudget.gateway.Identified;
import dev.tokenbudget.gateway.MeterResult;
import dev.tokenbudget.gateway.ResponseMeter;
import dev.tokenbudget.usage.TokenUsage;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.tokenbudget.envoy.EnvoyMessages.EXAMPLE_CONFIG;
import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestBody;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.split;
import static dev.tokenbudget.envoy.EnvoySequences.anthropicKey;
import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Response chunks reach the meter through one copy array per thread ({@link ResponseMeter#COPY_PIECE}):
 * streams whose chunks take turns on one thread, with sizes going up and down and past that array,
 * each meter the usage of its own response.
 */
class ExtProcChunkBufferTest {

    private final GatewayFixture g = GatewayFixture.promptsInTheConfig();

    @Test
    void streamsTakingTurnsOnOneThreadEachMeterTheirOwnResponse() {
        // a comment line much longer than the array a thread copies through: it goes in pieces
        byte[] padded = concat((": " + "x".repeat((64 << 10) + 100) + "\n\n")
                .getBytes(StandardCharsets.UTF_8), payload("openai-chat-stream.sse"));
        Driven openai = new Driven("/v1/chat/completions", bearer(GatewayFixture.MAIN),
                payload("openai-chat-stream-request.json"), "text/event-stream", split(padded, 9));
        Driven anthropic = new Driven("/v1/messages", anthropicKey(GatewayFixture.MAIN),
                payload("anthropic-messages-stream-request.json"), "text/event-stream",
                split(payload("anthropic-messages-stream.sse"), 4));
        // a JSON answer in small chunks after larger ones: a byte past its own chunk would spoil the document
        Driven json = new Driven("/v1/chat/completions", bearer(GatewayFixture.MAIN),
                payload("openai-chat-request.json"), "application/json",
                split(payload("openai-chat-response.json"), 13));

        // chunks of about 22 KiB: each goes to the meter in pieces of the copy array's size
        Driven large = new Driven("/v1/chat/completions", bearer(GatewayFixture.MAIN),
                payload("openai-chat-stream-request.json"), "text/event-stream", split(padded, 3));
        assertThat(padded.length / 3).isGreaterThan(2 * ResponseMeter.COPY_PIECE);

        while (!(openai.done() && anthropic.done() && json.done() && large.done())) {
            openai.step();
            anthropic.step();
            json.step();
            large.step();
        }

        assertThat(openai.charged().inputTokens()).isEqualTo(842);
        assertThat(openai.charged().outputTokens()).isEqualTo(31);
        assertThat(anthropic.charged().inputTokens()).isEqualTo(1449);
        assertThat(anthropic.charged().outputTokens()).isEqualTo(38);
        assertThat(json.charged().inputTokens()).isEqualTo(1187);
        assertThat(json.charged().outputTokens()).isEqualTo(46);
        assertThat(large.charged().inputTokens()).isEqualTo(842);
        assertThat(large.charged().outputTokens()).isEqualTo(31);
        assertThat(g.engine.reservedTotal("org")).isZero();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** One stream driven message by message on the test's thread; answers kept, the meter's result recorded. */
    private final class Driven {
        private final List<ProcessingRequest> messages = new ArrayList<>();
        private final List<ProcessingResponse> answers = new ArrayList<>();
        private final List<MeterResult> results = new ArrayList<>();
        private final ExtProcStream stream;
        private int next;

        Driven(String path, java.util.Map<String, String> auth, byte[] request, String contentType,
               List<byte[]> chunks) {
            messages.add(requestHeaders(post(path, request.length, auth), false, EXAMPLE_CONFIG));
            messages.add(requestBody(request, true));
            messages.add(responseHeaders(200, contentType, false));
            for (int i = 0; i < chunks.size(); i++) {
                messages.add(responseBody(chunks.get(i), i == chunks.size() - 1));
            }
            stream = new ExtProcStream(g.gateway, UpstreamSigning.none(), MessageTimeouts.ENVOY_DEFAULTS,
                    Runnable::run, new DirectObserver(answers::add), new Results(results), () -> { });
        }

        void step() {
            if (next < messages.size()) {
                stream.onNext(messages.get(next++));
                assertThat(answers).hasSize(next);
            }
        }

        boolean done() {
            return next == messages.size();
        }

        TokenUsage charged() {
            assertThat(results).hasSize(1);
            assertThat(results.get(0).outcome()).isEqualTo(MeterResult.Outcome.SETTLED);
            return results.get(0).charged();
        }
    }

    /** Records the meter's result; the rest of the stream's story is not asked about here. */
    private static final class Results implements StreamRecord {
        private final List<MeterResult> into;

        Results(List<MeterResult> into) {
            this.into = into;
        }

        @Override
        public void observed(boolean on) {
        }

        @Override
        public void request(String method, String path) {
        }

        @Override
        public void identified(Identified id) {
        }

        @Override
        public void forwarded(Forward f) {
        }

        @Override
        public void replied(int status) {
        }

        @Override
        public void responseStatus(int status) {
        }

        @Override
        public void responseBytes(int n) {
        }

        @Override
        public void meter(MeterResult r) {
            into.add(r);
        }

        @Override
        public void failed(Status s) {
            throw new AssertionError("stream failed: " + s);
        }

        @Override
        public void error(RuntimeException e) {
            throw new AssertionError("stream error", e);
        }

        @Override
        public void end(String how) {
        }
    }
}
