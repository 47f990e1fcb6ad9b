package dev.tokenbudget.routing;

/**
 * Per-minute limits of one upstream quota (a provider account and model class), each -1 when
 * the provider does not limit that dimension: requests (RPM), input tokens (Anthropic ITPM),
 * output tokens (Anthropic OTPM) and total tokens (OpenAI TPM).
 */
public record TierLimits(long requestsPerMinute, long inputTokensPerMinute, long outputTokensPerMinute,
                         long tokensPerMinute) {

    public static final long NONE = -1;

    public TierLimits {
        for (long v : new long[] {requestsPerMinute, inputTokensPerMinute, outputTokensPerMinute, tokensPerMinute}) {
            if (v != NONE && v <= 0) {
                throw new IllegalArgumentException("a tier limit must be > 0 or NONE, was " + v);
            }
        }
    }

    /** OpenAI's shape: requests and combined tokens per minute. */
    public static TierLimits openAi(long rpm, long tpm) {
        return new TierLimits(rpm, NONE, NONE, tpm);
    }

    /** Anthropic's shape: requests, input tokens and output tokens per minute. */
    public static TierLimits anthropic(long rpm, long itpm, long otpm) {
        return new TierLimits(rpm, itpm, otpm, NONE);
    }

    /** These limits with every dimension that {@code o} sets replaced by its value. */
    public TierLimits overriddenBy(TierLimits o) {
        return new TierLimits(o.requestsPerMinute != NONE ? o.requestsPerMinute : requestsPerMinute,
                o.inputTokensPerMinute != NONE ? o.inputTokensPerMinute : inputTokensPerMinute,
                o.outputTokensPerMinute != NONE ? o.outputTokensPerMinute : outputTokensPerMinute,
                o.tokensPerMinute != NONE ? o.tokensPerMinute : tokensPerMinute);
    }
}
