package dev.tokenbudget.config;

import dev.tokenbudget.budget.BudgetTree;
import dev.tokenbudget.routing.TierLimits;
import dev.tokenbudget.routing.TierPresets;
import dev.tokenbudget.routing.UpstreamSpec;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads {@code upstreams:}: provider quotas (a tier preset and/or limits), the wait bound and fair-share weights. */
final class UpstreamConfigReader {

    private static final Set<String> UPSTREAM = Set.of("name", "provider", "models", "preset", "limits", "max_wait",
            "weights");
    private static final Set<String> UPSTREAM_LIMITS = Set.of("requests_per_minute", "input_tokens_per_minute",
            "output_tokens_per_minute", "tokens_per_minute");

    private UpstreamConfigReader() {
    }

    static List<UpstreamSpec> read(ConfigNode n, BudgetTree tree) {
        List<UpstreamSpec> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (ConfigNode u : n.list()) {
            if (!u.expectObject(UPSTREAM)) {
                continue;
            }
            String name = ConfigLoader.id(u.get("name"));
            if (name != null && !names.add(name)) {
                u.get("name").error("duplicate upstream name '" + name + "'");
            }
            String provider = u.get("provider").requiredString();
            if (provider != null && !ConfigLoader.PROVIDERS.contains(provider)) {
                u.get("provider").error("must be one of "
                        + String.join(", ", ConfigLoader.PROVIDERS.stream().sorted().toList())
                        + ", was '" + provider + "'");
            }
            List<String> models = new ArrayList<>();
            u.get("models").list().forEach(m -> {
                String s = m.requiredString();
                if (s != null) {
                    models.add(s);
                }
            });
            TierLimits limits = new TierLimits(-1, -1, -1, -1);
            String preset = u.get("preset").string(null);
            if (preset != null) {
                limits = TierPresets.get(preset).orElse(null);
                if (limits == null) {
                    u.get("preset").error("unknown preset '" + preset + "'; known: "
                            + String.join(", ", TierPresets.names()));
                    limits = new TierLimits(-1, -1, -1, -1);
                }
            }
            ConfigNode l = u.get("limits");
            if (l.expectObject(UPSTREAM_LIMITS)) {
                limits = limits.overriddenBy(new TierLimits(l.get("requests_per_minute").positiveTokens(),
                        l.get("input_tokens_per_minute").positiveTokens(),
                        l.get("output_tokens_per_minute").positiveTokens(),
                        l.get("tokens_per_minute").positiveTokens()));
            }
            if (limits.requestsPerMinute() < 0 && limits.inputTokensPerMinute() < 0
                    && limits.outputTokensPerMinute() < 0 && limits.tokensPerMinute() < 0) {
                u.error("needs a preset or limits (requests_per_minute, input_tokens_per_minute, "
                        + "output_tokens_per_minute, tokens_per_minute)");
            }
            Duration maxWait = u.get("max_wait").duration(Duration.ofSeconds(2));
            Map<String, Integer> weights = new LinkedHashMap<>();
            ConfigNode w = u.get("weights");
            if (w.expectObject(Set.copyOf(w.fieldNames()))) {
                for (String tenant : w.fieldNames()) {
                    if (!tree.contains(tenant)) {
                        w.get(tenant).error("unknown budget '" + tenant + "'");
                    }
                    weights.put(tenant, w.get(tenant).integer(1, 1, 1000));
                }
            }
            if (name != null && provider != null) {
                out.add(new UpstreamSpec(name, provider, models, limits, maxWait, weights));
            }
        }
        return out;
    }
}
