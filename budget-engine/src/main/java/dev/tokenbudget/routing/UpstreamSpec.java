package dev.tokenbudget.routing;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A configured upstream quota: which traffic draws on it (a provider, optionally only some
 * models), its per-minute limits (a preset with overrides), how long a request may wait for
 * room, and tenants' weights in the fair share (tenant = the budget a virtual key is charged to).
 */
public record UpstreamSpec(String name, String provider, List<String> models, TierLimits limits, Duration maxWait,
                           Map<String, Integer> weights) {

    public UpstreamSpec {
        models = List.copyOf(models);
        weights = Map.copyOf(weights);
    }

    public boolean matches(String providerName, String model) {
        return provider.equals(providerName) && (models.isEmpty() || model != null && models.contains(model));
    }
}
