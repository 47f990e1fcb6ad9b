package dev.tokenbudget.fuzz;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

import java.math.BigInteger;
import java.util.List;

/**
 * Generators of provider-shaped JSON text as a hostile or broken upstream might send it: the field
 * names the codecs look for, at any depth, holding counts that are plausible, absurd (negative,
 * 2^53, 2^63, 1e309), not numbers at all (NaN, strings, arrays of thousands of elements, objects)
 * or not even JSON. Text, not a tree, so that invalid literals and duplicate fields survive.
 */
final class HostileJson {

    /** Field names the usage collectors of all three families read, and some they do not. */
    static final List<String> FIELDS = List.of("model", "type", "usage", "prompt_tokens", "completion_tokens",
            "total_tokens", "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
            "prompt_tokens_details", "cached_tokens", "completion_tokens_details", "reasoning_tokens",
            "input_tokens_details", "output_tokens_details", "usageMetadata", "promptTokenCount",
            "candidatesTokenCount", "totalTokenCount", "thoughtsTokenCount", "cachedContentTokenCount",
            "toolUsePromptTokenCount", "response", "message", "delta", "stop_reason", "finish_reason", "choices",
            "candidates", "finishReason", "error", "status", "promptFeedback", "blockReason", "incomplete_details",
            "content", "modelVersion", "object", "id");

    /** Values seen in the type, status and stop-reason fields of real responses. */
    static final List<String> WORDS = List.of("message_start", "message_delta", "message_stop", "content_block_delta",
            "response.completed", "response.incomplete", "response.failed", "error", "chat.completion",
            "chat.completion.chunk", "stop", "length", "end_turn", "max_tokens", "STOP", "SAFETY", "MAX_TOKENS",
            "completed", "incomplete", "gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash", "", "\\u0000", "\\ud800",
            "\\\"", "é", "👋");

    /** What a count field may hold when the upstream is broken or malicious. */
    static final List<String> ABSURD = List.of("-1", "-0", "0", "0.0", "12.0", "12.5", "1e3", "1E+2", "-5",
            "9007199254740991", "9007199254740992", "9223372036854775807", "9223372036854775808",
            "-9223372036854775808", "18446744073709551616", "1e308", "1e309", "-1e309", "4.9e-324", "NaN",
            "Infinity", "-Infinity", "\"100\"", "\"\"", "null", "true", "false", "[]", "[1,2,3]", "{}",
            "{\"a\":1}", "0x10", "01", "+1", ".5", "5.", "1e", "--1", "\"\\u0000\"", "\"\\ud800\"",
            "1" + "0".repeat(70));

    private HostileJson() {
    }

    /** A value for a count field: mostly plausible, often absurd, sometimes huge. */
    static Arbitrary<String> count() {
        return Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.longs().between(0, 200_000).map(String::valueOf)),
                Tuple.of(5, Arbitraries.of(ABSURD)),
                Tuple.of(1, Arbitraries.bigIntegers().between(BigInteger.TWO.pow(52), BigInteger.TWO.pow(70))
                        .map(BigInteger::toString)),
                Tuple.of(1, Arbitraries.integers().between(0, 20_000).map(n -> "[" + "7,".repeat(n) + "7]")));
    }

    /** Any JSON-ish value, nested up to {@code depth} levels. */
    static Arbitrary<String> value(int depth) {
        Arbitrary<String> word = Arbitraries.of(WORDS).map(w -> "\"" + w + "\"");
        if (depth <= 0) {
            return Arbitraries.oneOf(count(), word);
        }
        return Arbitraries.frequencyOf(
                Tuple.of(4, count()),
                Tuple.of(2, word),
                Tuple.of(3, object(depth - 1)),
                Tuple.of(1, value(depth - 1).list().ofMaxSize(4).map(vs -> "[" + String.join(",", vs) + "]")));
    }

    /** An object of known field names (duplicates allowed, as a hostile upstream may send them). */
    static Arbitrary<String> object(int depth) {
        Arbitrary<String> member = Combinators.combine(Arbitraries.of(FIELDS), Arbitraries.lazy(() -> value(depth)))
                .as((k, v) -> "\"" + k + "\":" + v);
        return member.list().ofMaxSize(6).map(ms -> "{" + String.join(",", ms) + "}");
    }
}
