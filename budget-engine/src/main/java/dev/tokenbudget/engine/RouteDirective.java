package dev.tokenbudget.engine;

import java.util.Map;

/**
 * What a degraded request must change, for the adapter to carry out: the route label (set as a
 * header a gateway route can match), the replacement model, the output-ceiling clamp, system
 * prompt variants and a cache-TTL directive.
 *
 * @param route           route label, e.g. {@code economy}
 * @param model           model to use instead of the requested one, or null to keep it
 * @param maxOutputTokens output ceiling to clamp to, or -1 for none; never more than the ticket's
 *                        {@link Ticket#reservedOutput()}, so the request is sent with no more than is reserved
 * @param promptVariants  registered system prompt id to its variant
 * @param cacheTtl        cache-TTL directive, or null
 */
public record RouteDirective(String route, String model, long maxOutputTokens, Map<String, String> promptVariants,
                            String cacheTtl) {

    public RouteDirective {
        promptVariants = Map.copyOf(promptVariants);
    }
}
