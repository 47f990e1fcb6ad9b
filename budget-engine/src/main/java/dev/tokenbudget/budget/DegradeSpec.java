package dev.tokenbudget.budget;

import java.util.Map;

/**
 * How a budget degrades a request: a model map (expensive model to cheaper model), an optional
 * output-ceiling clamp, system-prompt variants (registered prompt id to its concise variant), a
 * cache-TTL directive, and the route label that gateways match to pick a cheaper upstream.
 *
 * @param models           model to cheaper model; a model absent from the map keeps its name
 * @param maxOutputTokens  clamp of the output ceiling, or -1 for none
 * @param clampToRemaining also clamp the output ceiling to the tokens the budget has left
 * @param promptVariants   registered system prompt id to the id of its variant
 * @param cacheTtl         value of the cache-TTL directive header, or null
 * @param route            route label set in the directive header (default {@code economy})
 */
public record DegradeSpec(Map<String, String> models, long maxOutputTokens, boolean clampToRemaining,
                          Map<String, String> promptVariants, String cacheTtl, String route) {

    public static final String DEFAULT_ROUTE = "economy";

    public static final DegradeSpec NONE = new DegradeSpec(Map.of(), -1, false, Map.of(), null, DEFAULT_ROUTE);

    public DegradeSpec {
        models = Map.copyOf(models);
        promptVariants = Map.copyOf(promptVariants);
        route = route == null ? DEFAULT_ROUTE : route;
    }
}
