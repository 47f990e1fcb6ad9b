package dev.tokenbudget.config;

import dev.tokenbudget.alert.AlertConfig;
import dev.tokenbudget.budget.BudgetTree;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.routing.UpstreamSpec;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A whole validated configuration: budgets, keys, defaults, store, upstream credentials and
 * prices. Immutable; produced by {@link ConfigLoader}, which names the path of every error.
 *
 * @param budgets              the budget tree
 * @param keys                 virtual keys
 * @param store                where state lives
 * @param leaseTtl             how long a reservation may stay unsettled before it is charged in full
 * @param defaultOutputTokens  output ceiling reserved when a request sets none
 * @param outputTokensByModel  per-model override of that default
 * @param featureHeader        request header naming the feature budget
 * @param userHeader           request header naming the end user (trusted only if the gateway sets it)
 * @param providerKeyEnv       provider name to the environment variable holding its upstream key
 * @param prices               model to price, for the dollar view
 * @param upstreams            provider quotas shared by tenants (tier limits and fair share)
 * @param alerts               the {@code alerts:} section (docs/alerts.md)
 * @param prompts              registered system prompts, id to exact text, for degrade specs' {@code prompt_variants}
 */
public record EngineConfig(BudgetTree budgets, List<VirtualKey> keys, StoreSettings store, Duration leaseTtl,
                           long defaultOutputTokens, Map<String, Long> outputTokensByModel, String featureHeader,
                           String userHeader, Map<String, String> providerKeyEnv, Map<String, ModelPrice> prices,
                           List<UpstreamSpec> upstreams, AlertConfig alerts, Map<String, String> prompts) {

    public static final Duration DEFAULT_LEASE_TTL = Duration.ofMinutes(10);
    public static final long DEFAULT_OUTPUT_TOKENS = 4096;
    public static final String DEFAULT_FEATURE_HEADER = "x-tokenbudget-feature";
    public static final String DEFAULT_USER_HEADER = "x-tokenbudget-user";

    public EngineConfig {
        keys = List.copyOf(keys);
        outputTokensByModel = Map.copyOf(outputTokensByModel);
        providerKeyEnv = Map.copyOf(providerKeyEnv);
        prices = Map.copyOf(prices);
        upstreams = List.copyOf(upstreams);
        alerts = alerts == null ? AlertConfig.DEFAULTS : alerts;
        prompts = Map.copyOf(prompts);
    }

    /** A config without {@code alerts:} (the alert defaults) and {@code prompts:} sections. */
    public EngineConfig(BudgetTree budgets, List<VirtualKey> keys, StoreSettings store, Duration leaseTtl,
                        long defaultOutputTokens, Map<String, Long> outputTokensByModel, String featureHeader,
                        String userHeader, Map<String, String> providerKeyEnv, Map<String, ModelPrice> prices,
                        List<UpstreamSpec> upstreams) {
        this(budgets, keys, store, leaseTtl, defaultOutputTokens, outputTokensByModel, featureHeader, userHeader,
                providerKeyEnv, prices, upstreams, AlertConfig.DEFAULTS, Map.of());
    }

    /** Output ceiling to reserve for a request to {@code model} that sets none. */
    public long outputTokensFor(String model) {
        Long v = model == null ? null : outputTokensByModel.get(model);
        return v != null ? v : defaultOutputTokens;
    }

    public EngineConfig withBudgets(BudgetTree tree) {
        return new EngineConfig(tree, keys, store, leaseTtl, defaultOutputTokens, outputTokensByModel, featureHeader,
                userHeader, providerKeyEnv, prices, upstreams, alerts, prompts);
    }
}
