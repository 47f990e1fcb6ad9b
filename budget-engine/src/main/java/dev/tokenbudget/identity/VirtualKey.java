package dev.tokenbudget.identity;

import dev.tokenbudget.budget.Budget;

import java.util.List;
import java.util.Optional;

/**
 * A virtual key a gateway authenticates: stored as a SHA-256 hash, charged to a tenant or team
 * budget, allowed a set of feature budgets, optionally with a budget of its own and per-user
 * budgets. The clear-text key is never held.
 *
 * @param name           a label for logs and events (never the secret)
 * @param sha256         SHA-256 hex of the secret
 * @param budget         the tenant/team budget the key is charged to
 * @param features       feature budgets (descendants of {@code budget}) the key may use
 * @param defaultFeature feature used when a request names none, or null (then {@code budget})
 * @param ownBudget      the key's own budget (id {@code key:<name>}), or null
 * @param userTemplate   template of per-user budgets (id {@code user:<name>:<user>}), or null
 */
public record VirtualKey(String name, String sha256, String budget, List<String> features, String defaultFeature,
                         Budget ownBudget, Budget userTemplate) {

    public VirtualKey {
        features = List.copyOf(features);
    }

    public static String ownBudgetId(String keyName) {
        return "key:" + keyName;
    }

    public static String userBudgetId(String keyName, String user) {
        return "user:" + keyName + ":" + user;
    }

    public Optional<Budget> own() {
        return Optional.ofNullable(ownBudget);
    }
}
