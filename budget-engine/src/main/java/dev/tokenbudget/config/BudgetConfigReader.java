package dev.tokenbudget.config;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.BudgetTree;
import dev.tokenbudget.budget.DegradeSpec;
import dev.tokenbudget.budget.FailMode;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.budget.WindowLimit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code budgets:} into a {@link BudgetTree}: each budget's id, parent, windows, staged
 * policies, fail mode and allocation; then checks the tree (known parents, no cycles) and hands
 * thresholds and degrade sections down to the budgets that name none.
 */
final class BudgetConfigReader {

    private static final Set<String> BUDGET = Set.of("id", "parent", "windows", "thresholds", "degrade",
            "on_store_failure", "allocation", "overflow", "overflow_cap");

    private final List<ConfigError> errors;
    private final WindowConfigReader windows;
    private final PolicyConfigReader policies;
    private final AllocationConfig allocation;
    private final List<Threshold> defaultThresholds;
    private final FailMode defaultFailMode;
    private final Map<String, List<Threshold>> explicitThresholds = new HashMap<>();
    private final Map<String, DegradeSpec> explicitDegrade = new HashMap<>();

    BudgetConfigReader(List<ConfigError> errors, WindowConfigReader windows, PolicyConfigReader policies,
                       AllocationConfig allocation, List<Threshold> defaultThresholds, FailMode defaultFailMode) {
        this.errors = errors;
        this.windows = windows;
        this.policies = policies;
        this.allocation = allocation;
        this.defaultThresholds = defaultThresholds;
        this.defaultFailMode = defaultFailMode;
    }

    /** The budgets of {@code budgets:}; an empty tree when a parent is unknown or parents form a cycle. */
    BudgetTree read(ConfigNode budgetsNode) {
        if (budgetsNode.isMissing()) {
            budgetsNode.error("is required: a config needs at least one budget");
        }
        List<Budget> budgets = new ArrayList<>();
        Map<String, String> budgetPath = new HashMap<>();
        for (ConfigNode b : budgetsNode.list()) {
            Budget budget = budget(b);
            if (budget != null) {
                if (budgetPath.containsKey(budget.id())) {
                    b.get("id").error("duplicate budget id '" + budget.id() + "', first defined at "
                            + budgetPath.get(budget.id()));
                    continue;
                }
                budgetPath.put(budget.id(), b.path());
                budgets.add(budget);
            }
        }
        BudgetTree tree = inherit(tree(budgets, budgetPath), budgetPath);
        allocation.check(tree);
        return tree;
    }

    private Budget budget(ConfigNode b) {
        if (!b.expectObject(BUDGET)) {
            if (b.isMissing()) {
                b.error("must be a budget, was empty");
            }
            return null;
        }
        String id = ConfigLoader.id(b.get("id"));
        String parent = b.get("parent").string(null);
        List<WindowLimit> ws = windows.windows(b.get("windows"), true);
        // thresholds and degrade left out are inherited from the nearest ancestor (see inherit)
        List<Threshold> thresholds = b.has("thresholds") ? policies.thresholds(b.get("thresholds")) : null;
        DegradeSpec degrade = b.has("degrade") ? policies.degrade(b.get("degrade")) : null;
        FailMode fail = b.get("on_store_failure").enumValue(FailMode.class, defaultFailMode, s -> s);
        if (id == null) {
            return null;
        }
        if (thresholds != null) {
            explicitThresholds.put(id, thresholds);
        }
        if (degrade != null) {
            explicitDegrade.put(id, degrade);
        }
        return Budget.builder(id).parent(parent).windows(ws).thresholds(thresholds).degrade(degrade)
                .failMode(fail).allocation(allocation.allocation(id, b, ws)).overflow(allocation.overflow(b))
                .build();
    }

    /**
     * Staged policies are inherited down the tree: a budget without its own thresholds or
     * degrade section takes its nearest ancestor's, else the defaults.
     */
    private BudgetTree inherit(BudgetTree tree, Map<String, String> paths) {
        List<Budget> out = new ArrayList<>();
        for (Budget b : tree.budgets()) {
            List<Threshold> ts = null;
            DegradeSpec ds = null;
            for (Budget a : tree.chain(b.id())) {
                if (ts == null) {
                    ts = explicitThresholds.get(a.id());
                }
                if (ds == null) {
                    ds = explicitDegrade.get(a.id());
                }
            }
            ts = ts == null ? defaultThresholds : ts;
            ds = ds == null ? DegradeSpec.NONE : ds;
            PolicyConfigReader.checkDegradePolicy(new ConfigNode(null, paths.get(b.id()), errors), ts, ds);
            out.add(b.toBuilder().thresholds(ts).degrade(ds).build());
        }
        return new BudgetTree(out);
    }

    private BudgetTree tree(List<Budget> budgets, Map<String, String> paths) {
        Map<String, Budget> byId = new HashMap<>();
        budgets.forEach(b -> byId.put(b.id(), b));
        List<Budget> ok = new ArrayList<>();
        for (Budget b : budgets) {
            String p = b.parent().orElse(null);
            if (p != null && !byId.containsKey(p)) {
                errors.add(new ConfigError(paths.get(b.id()) + ".parent", "unknown budget '" + p + "'"
                        + " (budgets: " + String.join(", ", byId.keySet().stream().sorted().toList()) + ")"));
                continue;
            }
            Set<String> seen = new HashSet<>();
            Budget cur = b;
            boolean cycle = false;
            while (cur != null && cur.parent().isPresent()) {
                if (!seen.add(cur.id())) {
                    cycle = true;
                    break;
                }
                cur = byId.get(cur.parent().get());
            }
            if (cycle) {
                errors.add(new ConfigError(paths.get(b.id()) + ".parent", "parents form a cycle through '"
                        + b.id() + "'"));
                continue;
            }
            ok.add(b);
        }
        if (ok.size() != budgets.size()) {
            return new BudgetTree(List.of());
        }
        return new BudgetTree(ok);
    }
}
