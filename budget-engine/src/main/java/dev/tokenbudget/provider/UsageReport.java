package dev.tokenbudget.provider;

import dev.tokenbudget.usage.TokenUsage;

import java.util.Optional;

/**
 * What a response said about its usage, in the counting convention of {@code docs/usage.md}:
 * {@code inputTokens} is all input billed (cache reads and writes included), {@code outputTokens}
 * all output (reasoning included), {@code cachedInputTokens} the cache reads among the input and
 * {@code reasoningTokens} the reasoning among the output. A null count is unknown, never zero.
 *
 * @param model             the model the provider says served the request, or null
 * @param inputTokens       input tokens, or null when unknown
 * @param outputTokens      output tokens, or null when unknown
 * @param cachedInputTokens cache reads, or null when the provider did not say
 * @param reasoningTokens   reasoning tokens, or null when the provider did not say
 * @param complete          the provider reported final usage (a cut stream reports partial usage)
 * @param error             the provider's own error message (an error body or error event), or null
 * @param note              why usage is unknown or partial (malformed JSON, an absurd count...), or null
 */
public record UsageReport(String model, Long inputTokens, Long outputTokens, Long cachedInputTokens,
                          Long reasoningTokens, boolean complete, String error, String note) {

    public static final UsageReport NONE = new UsageReport(null, null, null, null, null, false, null, null);

    /** Counts are valid by construction: 0..2^53-1 (see {@link TokenUsage#MAX}). */
    public UsageReport {
        check(inputTokens);
        check(outputTokens);
        check(cachedInputTokens);
        check(reasoningTokens);
    }

    private static void check(Long v) {
        if (v != null && (v < 0 || v > TokenUsage.MAX)) {
            throw new IllegalArgumentException("token count out of range: " + v);
        }
    }

    /** True when input and output are both known. */
    public boolean known() {
        return inputTokens != null && outputTokens != null;
    }

    /** The usage to settle with, when input and output are both known (breakdowns default to 0). */
    public Optional<TokenUsage> usage() {
        if (!known()) {
            return Optional.empty();
        }
        long cached = Math.min(orZero(cachedInputTokens), inputTokens);
        long reasoning = Math.min(orZero(reasoningTokens), outputTokens);
        return Optional.of(new TokenUsage(inputTokens, outputTokens, cached, reasoning));
    }

    private static long orZero(Long v) {
        return v == null ? 0 : v;
    }
}
