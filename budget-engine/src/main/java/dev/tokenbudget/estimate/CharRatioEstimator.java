package dev.tokenbudget.estimate;

import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.PromptText;

/**
 * The tokenizer-free estimate: characters divided by a characters-per-token ratio, plus framing
 * and media. Costs nanoseconds; its error depends on the language and content (docs/usage.md).
 */
public final class CharRatioEstimator implements InputEstimator {

    /** A ratio that errs high for English prose and code with current tokenizers (about 4 chars per token). */
    public static final double DEFAULT_CHARS_PER_TOKEN = 3.0;

    private final double charsPerToken;

    public CharRatioEstimator(double charsPerToken) {
        if (!(charsPerToken > 0) || Double.isInfinite(charsPerToken)) {
            throw new IllegalArgumentException("charsPerToken must be > 0, was " + charsPerToken);
        }
        this.charsPerToken = charsPerToken;
    }

    public static CharRatioEstimator ofDefaults() {
        return new CharRatioEstimator(DEFAULT_CHARS_PER_TOKEN);
    }

    @Override
    public long inputTokens(Family family, String model, PromptText prompt) {
        return (long) Math.ceil(prompt.text().length() / charsPerToken) + InputEstimator.overhead(prompt);
    }
}
