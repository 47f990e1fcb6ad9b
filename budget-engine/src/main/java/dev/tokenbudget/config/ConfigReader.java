package dev.tokenbudget.config;

import dev.tokenbudget.alert.AlertConfig;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.BudgetTree;
import dev.tokenbudget.budget.FailMode;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.price.PriceTable;
import dev.tokenbudget.routing.UpstreamSpec;

import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One pass over a config tree, collecting errors: the top-level fields and {@code defaults:} here,
 * each section by its own reader, in the order the sections depend on each other (prices before
 * degrade targets, budgets before keys, upstreams and alerts).
 */
final class ConfigReader {

    private static final Set<String> ROOT = Set.of("version", "store", "lease_ttl", "defaults", "headers", "providers",
            "prices", "budgets", "keys", "upstreams", "alerts", "prompts");
    private static final Set<String> DEFAULTS = Set.of("output_tokens", "output_tokens_by_model", "zone", "thresholds",
            "on_store_failure", "oversubscription");
    private static final Set<String> HEADERS = Set.of("feature", "user");

    private final List<ConfigError> errors;
    private final WindowConfigReader windows;
    private final PolicyConfigReader policies = new PolicyConfigReader();
    private final AllocationConfig allocation;

    ConfigReader(List<ConfigError> errors) {
        this.errors = errors;
        this.windows = new WindowConfigReader(errors);
        this.allocation = new AllocationConfig(errors, windows::limits);
    }

    /** The config, or null when {@code errors} holds why not. */
    EngineConfig read(ConfigNode root) {
        if (root.isMissing()) {
            root.error("the config is empty: it needs at least 'budgets'");
            return null;
        }
        if (!root.expectObject(ROOT)) {
            return null;
        }
        int version = root.get("version").integer(1, 1, 1);
        assert version == 1;
        StoreSettings store = StoreConfigReader.read(root.get("store"));
        Duration leaseTtl = root.get("lease_ttl").duration(EngineConfig.DEFAULT_LEASE_TTL);
        if (leaseTtl.isZero() || leaseTtl.isNegative()) {
            root.get("lease_ttl").error("must be > 0");
        }

        ConfigNode defaults = root.get("defaults");
        defaults.expectObject(DEFAULTS);
        long outputTokens = defaults.get("output_tokens").isMissing() ? EngineConfig.DEFAULT_OUTPUT_TOKENS
                : defaults.get("output_tokens").positiveTokens();
        Map<String, Long> byModel = outputTokensByModel(defaults.get("output_tokens_by_model"));
        windows.defaultZone(defaults.get("zone"));
        List<Threshold> defaultThresholds = defaults.has("thresholds")
                ? policies.thresholds(defaults.get("thresholds")) : Budget.DEFAULT_THRESHOLDS;
        FailMode defaultFailMode = defaults.get("on_store_failure").enumValue(FailMode.class, FailMode.OPEN, s -> s);
        allocation.defaults(defaults);

        ConfigNode headers = root.get("headers");
        headers.expectObject(HEADERS);
        String featureHeader = header(headers.get("feature"), EngineConfig.DEFAULT_FEATURE_HEADER);
        String userHeader = header(headers.get("user"), EngineConfig.DEFAULT_USER_HEADER);

        Map<String, String> providerEnv = ProviderConfigReader.providers(root.get("providers"));
        Map<String, ModelPrice> prices = ProviderConfigReader.prices(root.get("prices"));
        policies.prices(PriceTable.of(prices));
        Map<String, String> prompts = root.get("prompts").stringMap();

        BudgetTree tree = new BudgetConfigReader(errors, windows, policies, allocation, defaultThresholds,
                defaultFailMode).read(root.get("budgets"));
        List<VirtualKey> keys = new KeyConfigReader(windows, policies, defaultThresholds, defaultFailMode)
                .read(root.get("keys"), tree);
        List<UpstreamSpec> upstreams = UpstreamConfigReader.read(root.get("upstreams"), tree);
        AlertConfig alerts = AlertConfigReader.read(root.get("alerts"), budgetIds(tree, keys));
        if (!errors.isEmpty()) {
            return null;
        }
        return new EngineConfig(tree, keys, store, leaseTtl, outputTokens, byModel, featureHeader, userHeader,
                providerEnv, prices, upstreams, alerts, prompts);
    }

    private static Map<String, Long> outputTokensByModel(ConfigNode bm) {
        Map<String, Long> byModel = new LinkedHashMap<>();
        if (bm.expectObject(Set.copyOf(bm.fieldNames()))) {
            for (String model : bm.fieldNames()) {
                long v = bm.get(model).positiveTokens();
                if (v > 0) {
                    byModel.put(model, v);
                }
            }
        }
        return byModel;
    }

    private static Set<String> budgetIds(BudgetTree tree, List<VirtualKey> keys) {
        Set<String> ids = new HashSet<>();
        tree.budgets().forEach(b -> ids.add(b.id()));
        keys.forEach(k -> k.own().ifPresent(b -> ids.add(b.id())));
        return ids;
    }

    private static String header(ConfigNode n, String def) {
        String h = n.string(def);
        if (h != null && !h.matches("[A-Za-z0-9-]{1,64}")) {
            n.error("must be an HTTP header name (letters, digits and '-'), was '" + h + "'");
            return def;
        }
        return h == null ? def : h.toLowerCase(java.util.Locale.ROOT);
    }
}
