package dev.tokenbudget.fuzz;

import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.UsageReader;
import dev.tokenbudget.provider.UsageReport;
import dev.tokenbudget.usage.TokenUsage;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzing of the usage reader that meters every response: whatever an upstream sends (any
 * family's fields at any depth, absurd counts, broken JSON, broken event streams) and however the
 * network cuts it, reading never throws, every count it reports is a valid one, and the report is
 * the same for every chunking. Inputs worth keeping go to {@code src/test/resources/fuzz-corpus/usage}
 * ({@link FuzzCorpusTest} replays them).
 */
class UsageReaderFuzzProperties {

    private static final Pattern JSON_NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");

    @Provide
    Arbitrary<HostileResponse> responses() {
        return HostileResponse.any();
    }

    @Property(tries = 1500)
    void anyResponseIsReadWithoutAnExceptionAndAlikeForEveryChunking(@ForAll("responses") HostileResponse r,
                                                                     @ForAll long seed) {
        UsageReport whole = read(r.endpoint(), r.contentType(), r.bytes(), new int[0]);
        UsageReport chunked = read(r.endpoint(), r.contentType(), r.bytes(), Chunks.cuts(r.bytes().length, seed));

        assertThat(comparable(chunked)).isEqualTo(comparable(whole));
        if (r.bytes().length <= 4096) {
            UsageReader bytewise = UsageReader.of(r.family(), r.endpoint(), r.contentType());
            Chunks.feedBytewise(r.bytes(), bytewise::feed);
            assertThat(comparable(bytewise.finish())).isEqualTo(comparable(whole));
        }
        assertValid(whole);
    }

    /** A well-formed final response of each shape, with {@code %V%} where the input count goes. */
    enum Shape {
        OPENAI_CHAT_JSON(Endpoint.CHAT_COMPLETIONS, "application/json",
                "{\"model\":\"m\",\"choices\":[{\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":%V%,"
                        + "\"completion_tokens\":5}}"),
        OPENAI_CHAT_SSE(Endpoint.CHAT_COMPLETIONS, "text/event-stream",
                "data: {\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"
                        + "data: {\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":%V%,"
                        + "\"completion_tokens\":5}}\n\ndata: [DONE]\n\n"),
        OPENAI_RESPONSES_JSON(Endpoint.RESPONSES, "application/json",
                "{\"object\":\"response\",\"status\":\"completed\",\"model\":\"m\",\"usage\":{\"input_tokens\":%V%,"
                        + "\"output_tokens\":5}}"),
        OPENAI_RESPONSES_SSE(Endpoint.RESPONSES, "text/event-stream",
                "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":"
                        + "\"completed\",\"model\":\"m\",\"usage\":{\"input_tokens\":%V%,\"output_tokens\":5}}}\n\n"),
        ANTHROPIC_JSON(Endpoint.MESSAGES, "application/json",
                "{\"type\":\"message\",\"model\":\"m\",\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":%V%,"
                        + "\"output_tokens\":5}}"),
        ANTHROPIC_SSE(Endpoint.MESSAGES, "text/event-stream",
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"m\",\"usage\":"
                        + "{\"input_tokens\":%V%,\"output_tokens\":1}}}\n\n"
                        + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
                        + "\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n"
                        + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
        GEMINI_JSON(Endpoint.GENERATE_CONTENT, "application/json",
                "{\"candidates\":[{\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":%V%,"
                        + "\"candidatesTokenCount\":5},\"modelVersion\":\"m\"}"),
        GEMINI_SSE(Endpoint.STREAM_GENERATE_CONTENT, "text/event-stream",
                "data: {\"candidates\":[{\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":%V%,"
                        + "\"candidatesTokenCount\":5},\"modelVersion\":\"m\"}\r\n\r\n");

        final Endpoint endpoint;
        final String contentType;
        final String template;

        Shape(Endpoint endpoint, String contentType, String template) {
            this.endpoint = endpoint;
            this.contentType = contentType;
            this.template = template;
        }
    }

    @Provide
    Arbitrary<String> counts() {
        return HostileJson.count().filter(v -> !v.startsWith("["));
    }

    @Property(tries = 400)
    void aCountIsReadExactlyWhenValidAndOtherwiseMakesTheUsageUnknownWithANote(@ForAll Shape shape,
                                                                               @ForAll("counts") String v,
                                                                               @ForAll long seed) {
        byte[] b = shape.template.replace("%V%", v).getBytes(StandardCharsets.UTF_8);
        UsageReport r = read(shape.endpoint, shape.contentType, b, Chunks.cuts(b.length, seed));

        Long expected = validCount(v);
        if (expected != null && expected + 5 > TokenUsage.MAX) {
            // every shape reports 5 output tokens: a pair adding up beyond 2^53-1 is refused as a whole
            expected = null;
        }
        if (expected != null) {
            assertThat(r.known()).as(r.toString()).isTrue();
            assertThat(r.complete()).as(r.toString()).isTrue();
            assertThat(r.inputTokens()).isEqualTo(expected);
            assertThat(r.outputTokens()).isEqualTo(5);
        } else {
            assertThat(r.known()).as(r.toString()).isFalse();
            assertThat(r.usage()).isEmpty();
            // a value that parses but is no count is named in a note; malformed JSON spoils a
            // whole body (noted) or only its own event of a stream (documented: no note); null
            // or an object is no value at all: the count is missing, not refused
            boolean absent = v.equals("null") || v.startsWith("{");
            boolean parses = JSON_NUMBER.matcher(v).matches() && v.length() <= 64 || v.startsWith("\"")
                    && !v.contains("\\ud800") || v.equals("true") || v.equals("false");
            if (!absent && (parses || shape.contentType.equals("application/json"))) {
                assertThat(r.note()).as("a refused value is explained").isNotBlank();
            }
        }
    }

    /** The count a JSON literal stands for, or null when it is no valid token count. */
    static Long validCount(String literal) {
        if (!JSON_NUMBER.matcher(literal).matches() || literal.length() > 64) {
            return null;
        }
        BigDecimal d = new BigDecimal(literal);
        if (d.signum() < 0 || d.compareTo(BigDecimal.valueOf(TokenUsage.MAX)) > 0) {
            return null;
        }
        try {
            return d.longValueExact();
        } catch (ArithmeticException fractional) {
            return null;
        }
    }

    /**
     * A report with its note reduced to whether there is one: the wording of a JSON failure may
     * differ by chunking (Jackson names the length of an over-long number as far as it had read).
     */
    static UsageReport comparable(UsageReport r) {
        return new UsageReport(r.model(), r.inputTokens(), r.outputTokens(), r.cachedInputTokens(),
                r.reasoningTokens(), r.complete(), r.error(), r.note() == null ? null : "noted");
    }

    static UsageReport read(Endpoint e, String contentType, byte[] b, int[] cuts) {
        UsageReader reader = UsageReader.of(e.family(), e, contentType);
        Chunks.feed(b, cuts, (bytes, off, len) -> {
            reader.feed(bytes, off, len);
            assertValid(reader.current());
        });
        return reader.finish();
    }

    static void assertValid(UsageReport r) {
        r.usage().ifPresent(u -> {
            assertThat(u.inputTokens()).isBetween(0L, TokenUsage.MAX);
            assertThat(u.outputTokens()).isBetween(0L, TokenUsage.MAX);
            assertThat(u.cachedInputTokens()).isBetween(0L, u.inputTokens());
            assertThat(u.reasoningTokens()).isBetween(0L, u.outputTokens());
        });
    }
}
