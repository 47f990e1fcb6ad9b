package dev.tokenbudget.estimate;

import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.PromptText;

/**
 * Estimates a request's input tokens before it is sent. Sits on the request path, so an
 * implementation must cost microseconds for typical prompts; it should err high rather than low,
 * since settlement corrects the reservation to what the provider reports. Thread-safe.
 */
public interface InputEstimator {

    /** Tokens charged per media part (image, file, audio) that is not tokenized as text. */
    long MEDIA_PART_TOKENS = 1_600;
    /** Framing tokens per message (role markers and separators) and per request. */
    long MESSAGE_TOKENS = 4;
    long REQUEST_TOKENS = 3;

    /** Estimated input tokens of {@code prompt} for {@code model} (null when unknown) of {@code family}. */
    long inputTokens(Family family, String model, PromptText prompt);

    /** Framing, media and raw token ids: the part of an estimate that does not depend on the text. */
    static long overhead(PromptText p) {
        return REQUEST_TOKENS + MESSAGE_TOKENS * p.messages() + MEDIA_PART_TOKENS * p.mediaParts() + p.tokenIds();
    }
}
