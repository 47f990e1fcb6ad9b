package dev.tokenbudget.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code providers:} (the environment variable holding each provider's API key; keys are
 * never written in the config) and {@code prices:} (dollars per million tokens per model).
 */
final class ProviderConfigReader {

    private static final Set<String> PROVIDER = Set.of("api_key_env");
    private static final Set<String> PRICE = Set.of("input", "output", "cached_input");

    private ProviderConfigReader() {
    }

    static Map<String, String> providers(ConfigNode n) {
        Map<String, String> out = new LinkedHashMap<>();
        if (!n.expectObject(ConfigLoader.PROVIDERS)) {
            return out;
        }
        for (String name : n.fieldNames()) {
            ConfigNode p = n.get(name);
            p.expectObject(PROVIDER);
            String env = p.get("api_key_env").requiredString();
            if (env != null && !env.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                p.get("api_key_env").error("must name an environment variable, was '" + env
                        + "' (keys are never written in the config in clear)");
            } else if (env != null) {
                out.put(name, env);
            }
        }
        return out;
    }

    static Map<String, ModelPrice> prices(ConfigNode n) {
        Map<String, ModelPrice> out = new LinkedHashMap<>();
        if (!n.expectObject(Set.copyOf(n.fieldNames()))) {
            return out;
        }
        for (String model : n.fieldNames()) {
            ConfigNode p = n.get(model);
            p.expectObject(PRICE);
            if (!p.has("input") || !p.has("output")) {
                p.error("needs input and output (dollars per million tokens)");
            }
            double in = p.get("input").number(0);
            out.put(model, new ModelPrice(in, p.get("output").number(0), p.get("cached_input").number(in)));
        }
        return out;
    }
}
