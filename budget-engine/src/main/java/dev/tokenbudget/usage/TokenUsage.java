package dev.tokenbudget.usage;

/**
 * Tokens one request used, in the engine's counting convention (docs/usage.md):
 * {@code inputTokens} is all input billed, cache reads and writes included; {@code outputTokens}
 * is all output, reasoning included; {@code cachedInputTokens} (cache reads) and
 * {@code reasoningTokens} are breakdowns already contained in those two.
 */
public record TokenUsage(long inputTokens, long outputTokens, long cachedInputTokens, long reasoningTokens) {

    /** Largest count accepted: Lua numbers in Redis are exact only up to 2^53. */
    public static final long MAX = (1L << 53) - 1;

    public TokenUsage {
        check("inputTokens", inputTokens);
        check("outputTokens", outputTokens);
        check("cachedInputTokens", cachedInputTokens);
        check("reasoningTokens", reasoningTokens);
    }

    private static void check(String name, long v) {
        if (v < 0 || v > MAX) {
            throw new IllegalArgumentException(name + " must be in 0.." + MAX + ", was " + v);
        }
    }

    public static TokenUsage of(long input, long output) {
        return new TokenUsage(input, output, 0, 0);
    }

    public long totalTokens() {
        return inputTokens + outputTokens;
    }
}
