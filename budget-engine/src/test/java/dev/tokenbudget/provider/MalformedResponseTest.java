package dev.tokenbudget.provider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad responses give unknown usage with a note, never an exception and never a bad count. */
class MalformedResponseTest {

    private static UsageReport read(Family f, Endpoint e, String contentType, byte[] body) {
        UsageReader r = UsageReader.of(f, e, contentType);
        r.feed(body, 0, body.length);
        return r.finish();
    }

    private static UsageReport read(Family f, Endpoint e, String contentType, String body) {
        return read(f, e, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void absurdCountsMakeUsageUnknownAndSaySo() {
        for (String v : new String[] {"-5", "9223372036854775807", "9223372036854775808", "18446744073709551616",
            "\"100\"", "1.5", "9007199254740992"}) {
            UsageReport r = read(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, "application/json",
                    "{\"model\":\"gpt-4.1\",\"usage\":{\"prompt_tokens\":" + v + ",\"completion_tokens\":3}}");
            assertThat(r.known()).as(v).isFalse();
            assertThat(r.usage()).as(v).isEmpty();
            assertThat(r.note()).as(v).contains("usage.prompt_tokens").contains("not a token count");
        }
    }

    @Test
    void anAbsurdCountInALaterAnthropicDeltaMakesTheWholeUsageUnknown() {
        String s = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude\","
                + "\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"
                + "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":-3}}\n\n";
        UsageReport r = read(Family.ANTHROPIC, Endpoint.MESSAGES, "text/event-stream", s);
        assertThat(r.known()).isFalse();
        assertThat(r.note()).contains("usage.output_tokens");
    }

    @Test
    void nanCountIsMalformedJsonAndUnknown() {
        UsageReport r = read(Family.GEMINI, Endpoint.GENERATE_CONTENT, "application/json",
                "{\"usageMetadata\":{\"promptTokenCount\":NaN,\"candidatesTokenCount\":1}}");
        assertThat(r.known()).isFalse();
        assertThat(r.note()).startsWith("malformed JSON");
    }

    @Test
    void truncatedJsonBodyIsUnknownWithANote() {
        byte[] full = Payloads.bytes("openai/chat.json");
        for (int len = 0; len < full.length; len += 37) {
            UsageReport r = read(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, "application/json",
                    Arrays.copyOf(full, len));
            assertThat(r.complete()).as("len %d", len).isFalse();
            assertThat(r.usage()).as("len %d", len).isEmpty();
        }
    }

    @Test
    void invalidUtf8InAStreamSpoilsOnlyItsEvent() {
        byte[] head = "data: {\"choices\":[{\"delta\":{\"content\":\"".getBytes(StandardCharsets.UTF_8);
        byte[] bad = {(byte) 0xFF, (byte) 0xC3, '(', '"', '}', '}', ']', '}', '\n', '\n'};
        byte[] tail = ("data: {\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2}}"
                + "\n\n").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[head.length + bad.length + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(bad, 0, all, head.length, bad.length);
        System.arraycopy(tail, 0, all, head.length + bad.length, tail.length);
        UsageReport r = read(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, "text/event-stream", all);
        assertThat(r.usage()).isPresent();
        assertThat(r.inputTokens()).isEqualTo(4);
    }

    @Test
    void aTenMegabyteBodyIsReadInBoundedPiecesAndItsUsageFound() {
        StringBuilder sb = new StringBuilder(10_500_000);
        sb.append("{\"model\":\"gpt-4.1\",\"choices\":[{\"message\":{\"content\":\"");
        sb.append("lorem ipsum ".repeat(850_000));
        sb.append("\"}}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2500000}}");
        byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
        assertThat(b.length).isGreaterThan(10_000_000);
        UsageReader r = UsageReader.of(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, "application/json");
        for (int i = 0; i < b.length; i += 16384) {
            r.feed(b, i, Math.min(16384, b.length - i));
        }
        UsageReport rep = r.finish();
        assertThat(rep.outputTokens()).isEqualTo(2_500_000);
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void randomGarbageNeverThrowsAndNeverYieldsUsage(Family f) {
        Random random = new Random(f.ordinal());
        for (int round = 0; round < 300; round++) {
            byte[] junk = new byte[random.nextInt(2000)];
            random.nextBytes(junk);
            for (String ct : new String[] {"text/event-stream", "application/json", null}) {
                Endpoint e = f == Family.OPENAI ? Endpoint.CHAT_COMPLETIONS : f == Family.ANTHROPIC
                        ? Endpoint.MESSAGES : Endpoint.STREAM_GENERATE_CONTENT;
                UsageReport r = read(f, e, ct, junk);
                assertThat(r.complete()).isFalse();
            }
        }
    }

    @Test
    void mutatedFixturesNeverThrow() {
        Random random = new Random(7);
        for (Payloads.Payload p : Payloads.all()) {
            for (int round = 0; round < 50; round++) {
                byte[] b = p.bytes().clone();
                for (int k = 0; k < 1 + random.nextInt(8); k++) {
                    b[random.nextInt(b.length)] = (byte) random.nextInt(256);
                }
                UsageReport r = read(p.family(), p.endpoint(), p.contentType(), b);
                r.usage().ifPresent(u -> assertThat(u.inputTokens()).isBetween(0L, (1L << 53) - 1));
            }
        }
    }

    @Test
    void unknownContentTypeIsSniffed() {
        UsageReport json = read(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, null, Payloads.bytes("openai/chat.json"));
        UsageReport sse = read(Family.ANTHROPIC, Endpoint.MESSAGES, "application/octet-stream",
                Payloads.bytes("anthropic/messages-stream.sse"));
        assertThat(json.inputTokens()).isEqualTo(1200);
        assertThat(sse.outputTokens()).isEqualTo(15);
    }

    @Test
    void aStreamCutBetweenTwoCumulativeAnthropicDeltasIsPartial() {
        byte[] s = Payloads.bytes("anthropic/messages-stream-server-tools.sse");
        String text = new String(s, StandardCharsets.UTF_8);
        int cut = text.indexOf("event: content_block_start", text.indexOf("\"output_tokens\":45"));
        UsageReport r = read(Family.ANTHROPIC, Endpoint.MESSAGES, "text/event-stream", Arrays.copyOf(s, cut));
        assertThat(r.outputTokens()).isEqualTo(45);
        assertThat(r.complete()).isFalse();
    }

    @Test
    void countsThatAddUpBeyondTheMaximumAreUnknown() {
        long big = (1L << 52);
        UsageReport r = read(Family.ANTHROPIC, Endpoint.MESSAGES, "application/json", "{\"type\":\"message\","
                + "\"usage\":{\"input_tokens\":" + big + ",\"cache_read_input_tokens\":" + big
                + ",\"output_tokens\":1}}");
        assertThat(r.known()).isFalse();
        assertThat(r.note()).contains("add up beyond");
    }

    @Test
    void aBlockedGeminiPromptInAStreamIsFinal() {
        UsageReport r = read(Family.GEMINI, Endpoint.STREAM_GENERATE_CONTENT, "text/event-stream",
                "data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"usageMetadata\":{\"promptTokenCount\":12,"
                        + "\"totalTokenCount\":12},\"modelVersion\":\"gemini-2.5-flash\"}\r\n\r\n");
        assertThat(r.complete()).isTrue();
        assertThat(r.usage().orElseThrow().totalTokens()).isEqualTo(12);
    }
}
