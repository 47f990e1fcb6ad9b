package dev.tokenbudget.config;

/** Dollars per million tokens of one model; dollars are a derived view, never a budget unit. */
public record ModelPrice(double input, double output, double cachedInput) {

    /** Dollar cost of a usage: cached input at its own rate, the rest of the input at the input rate. */
    public double cost(long inputTokens, long outputTokens, long cachedInputTokens) {
        long uncached = Math.max(0, inputTokens - cachedInputTokens);
        return (uncached * input + cachedInputTokens * cachedInput + outputTokens * output) / 1_000_000.0;
    }
}
