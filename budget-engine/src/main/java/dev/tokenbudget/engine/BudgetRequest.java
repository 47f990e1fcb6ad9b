package dev.tokenbudget.engine;

import dev.tokenbudget.identity.VirtualKey;

/**
 * A request to admit, as an adapter describes it after authenticating the key and estimating.
 *
 * @param key             the authenticated virtual key
 * @param feature         the requested feature budget (a header), or null for the key's default
 * @param user            the end user (trusted header), or null
 * @param model           the requested model, or null when unknown
 * @param inputTokens     estimated input tokens
 * @param outputTokens    output ceiling (max_tokens or the configured default); never under-estimated
 * @param ceilingEnforced whether the gateway holds the request to a smaller output ceiling that a
 *                        {@link RouteDirective} sets (it rewrites the body, and the request asks for one
 *                        choice, since providers apply a ceiling per choice). Only then does the engine
 *                        reserve less than {@code outputTokens} for a degraded request (the degrade spec's
 *                        {@code max_output_tokens}, {@code clamp_to_remaining}); otherwise it reserves,
 *                        and refuses, at {@code outputTokens}
 */
public record BudgetRequest(VirtualKey key, String feature, String user, String model, long inputTokens,
                            long outputTokens, boolean ceilingEnforced) {

    public BudgetRequest {
        java.util.Objects.requireNonNull(key, "key");
        if (inputTokens < 0 || outputTokens < 0) {
            throw new IllegalArgumentException("token estimates must be >= 0, were " + inputTokens + "/" + outputTokens);
        }
    }

    /** A request whose gateway holds it to the output ceiling a degrade directive sets. */
    public BudgetRequest(VirtualKey key, String feature, String user, String model, long inputTokens,
                         long outputTokens) {
        this(key, feature, user, model, inputTokens, outputTokens, true);
    }
}
