package dev.tokenbudget.engine;

import dev.tokenbudget.identity.VirtualKey;

/**
 * A request to admit, as an adapter describes it after authenticating the key and estimating.
 *
 * @param key          the authenticated virtual key
 * @param feature      the requested feature budget (a header), or null for the key's default
 * @param user         the end user (trusted header), or null
 * @param model        the requested model, or null when unknown
 * @param inputTokens  estimated input tokens
 * @param outputTokens output ceiling (max_tokens or the configured default); never under-estimated
 */
public record BudgetRequest(VirtualKey key, String feature, String user, String model, long inputTokens,
                            long outputTokens) {

    public BudgetRequest {
        java.util.Objects.requireNonNull(key, "key");
        if (inputTokens < 0 || outputTokens < 0) {
            throw new IllegalArgumentException("token estimates must be >= 0, were " + inputTokens + "/" + outputTokens);
        }
    }
}
