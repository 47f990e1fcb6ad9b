package dev.tokenbudget.config;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.BudgetTree;
import dev.tokenbudget.budget.FailMode;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code keys:}: each virtual key's name, SHA-256, budget, features (below that budget),
 * default feature, and the windows of its own budget and of its per-user budgets.
 */
final class KeyConfigReader {

    private static final Set<String> KEY = Set.of("name", "sha256", "budget", "features", "default_feature", "windows",
            "thresholds", "user_windows");

    private final WindowConfigReader windows;
    private final PolicyConfigReader policies;
    private final List<Threshold> defaultThresholds;
    private final FailMode defaultFailMode;

    KeyConfigReader(WindowConfigReader windows, PolicyConfigReader policies, List<Threshold> defaultThresholds,
                    FailMode defaultFailMode) {
        this.windows = windows;
        this.policies = policies;
        this.defaultThresholds = defaultThresholds;
        this.defaultFailMode = defaultFailMode;
    }

    List<VirtualKey> read(ConfigNode n, BudgetTree tree) {
        List<VirtualKey> out = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        Map<String, String> hashes = new HashMap<>();
        for (ConfigNode k : n.list()) {
            if (!k.expectObject(KEY)) {
                continue;
            }
            String name = ConfigLoader.id(k.get("name"));
            String hash = k.get("sha256").requiredString();
            if (hash != null && !KeyHash.isHash(hash)) {
                k.get("sha256").error("must be the SHA-256 of the key as 64 lower-case hex digits (bin/tokenbudget "
                        + "hash-key KEY prints it); keys are never stored in clear");
                hash = null;
            }
            String budget = k.get("budget").requiredString();
            if (budget != null && !tree.contains(budget)) {
                k.get("budget").error("unknown budget '" + budget + "'");
                budget = null;
            }
            List<String> features = features(k.get("features"), budget, tree);
            String def = k.get("default_feature").string(null);
            if (def != null && !features.contains(def)) {
                k.get("default_feature").error("must be one of the key's features " + features + ", was '" + def
                        + "'");
            }
            Budget own = null;
            List<Threshold> ts = k.has("thresholds") ? policies.thresholds(k.get("thresholds")) : defaultThresholds;
            if (k.has("windows") && name != null && budget != null) {
                own = Budget.builder(VirtualKey.ownBudgetId(name)).parent(budget)
                        .windows(windows.windows(k.get("windows"), true)).thresholds(ts).failMode(defaultFailMode)
                        .build();
            }
            Budget users = null;
            if (k.has("user_windows") && name != null && budget != null) {
                users = Budget.builder(VirtualKey.userBudgetId(name, "*")).parent(budget)
                        .windows(windows.windows(k.get("user_windows"), true)).thresholds(ts)
                        .failMode(defaultFailMode).build();
            }
            if (name != null && names.containsKey(name)) {
                k.get("name").error("duplicate key name '" + name + "', first at " + names.get(name));
                continue;
            }
            if (hash != null && hashes.containsKey(hash)) {
                k.get("sha256").error("the same key hash as " + hashes.get(hash));
                continue;
            }
            if (name == null || hash == null || budget == null) {
                continue;
            }
            names.put(name, k.path());
            hashes.put(hash, k.path());
            out.add(new VirtualKey(name, hash, budget, features, def, own, users));
        }
        return out;
    }

    /** The key's feature budgets: known, and below its budget (a key charges its own tenant only). */
    private static List<String> features(ConfigNode n, String budget, BudgetTree tree) {
        List<String> features = new ArrayList<>();
        for (ConfigNode f : n.list()) {
            String fid = f.requiredString();
            if (fid == null) {
                continue;
            }
            if (!tree.contains(fid)) {
                f.error("unknown budget '" + fid + "'");
            } else if (budget != null && !tree.isWithin(fid, budget)) {
                f.error("feature budget '" + fid + "' is not below the key's budget '" + budget
                        + "': a key may only charge its own tenant");
            } else {
                features.add(fid);
            }
        }
        return features;
    }
}
