package dev.tokenbudget.config;

import dev.tokenbudget.allocation.AllocationSpec;
import dev.tokenbudget.allocation.AllocationTree;
import dev.tokenbudget.allocation.HoldSpec;
import dev.tokenbudget.allocation.Overflow;
import dev.tokenbudget.allocation.Oversubscription;
import dev.tokenbudget.allocation.RebalanceSpec;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.BudgetTree;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.window.Period;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and checks the cross-team allocation fields of budgets ({@code allocation:},
 * {@code overflow:}, {@code overflow_cap:}, {@code defaults.oversubscription}); the reference is
 * docs/allocation.md. Checks that need the whole tree run after it is built ({@link #check}).
 */
final class AllocationConfig {

    static final Set<String> ALLOCATION = Set.of("oversubscription", "rebalance", "holds");
    private static final Set<String> REBALANCE = Set.of("at", "below", "share", "max");
    private static final Set<String> HOLD = Set.of("id", "window", "for", "tokens", "for_last");
    private static final Pattern PERCENT = Pattern.compile("(\\d{1,4})\\s*%");
    /** The shortest instance of each calendar period: a hold must be released within it. */
    private static final Map<Period, Duration> SHORTEST = Map.of(Period.MONTH, Duration.ofDays(28), Period.WEEK,
            Duration.ofDays(7), Period.DAY, Duration.ofHours(23));

    private final List<ConfigError> errors;
    private final Function<ConfigNode, Limits> limits;
    private final Map<String, String> budgetPaths = new HashMap<>();
    private final Map<String, String> holdPaths = new HashMap<>();
    private Oversubscription defaultOversubscription = Oversubscription.ALLOW;

    AllocationConfig(List<ConfigError> errors, Function<ConfigNode, Limits> limits) {
        this.errors = errors;
        this.limits = limits;
    }

    void defaults(ConfigNode defaults) {
        defaultOversubscription = defaults.get("oversubscription").enumValue(Oversubscription.class,
                Oversubscription.ALLOW, s -> s);
    }

    /** The budget's {@code allocation:} section, or null without one. */
    AllocationSpec allocation(String budgetId, ConfigNode b, List<WindowLimit> windows) {
        ConfigNode n = b.get("allocation");
        if (budgetId != null) {
            budgetPaths.put(budgetId, b.path());
        }
        if (!n.expectObject(ALLOCATION)) {
            return null;
        }
        Oversubscription o = n.get("oversubscription").enumValue(Oversubscription.class, defaultOversubscription,
                s -> s);
        RebalanceSpec rebalance = null;
        ConfigNode r = n.get("rebalance");
        if (r.expectObject(REBALANCE)) {
            int at = percent(r.get("at"), 50, 1, 99);
            int below = percent(r.get("below"), 50, 1, 100);
            int share = percent(r.get("share"), 50, 1, 100);
            int max = percent(r.get("max"), 30, 1, 100);
            rebalance = new RebalanceSpec(at, below, share, max);
            if (calendarWindows(windows).isEmpty()) {
                r.error("rebalance needs a calendar window (month, week or day) on this budget");
            }
        }
        List<HoldSpec> holds = new ArrayList<>();
        List<ConfigNode> items = n.get("holds").list();
        for (int i = 0; i < items.size(); i++) {
            ConfigNode h = items.get(i);
            HoldSpec hold = hold(h, windows, "cfg-" + budgetId + "-" + (i + 1));
            if (hold != null) {
                if (holdPaths.containsKey(hold.id())) {
                    h.get("id").error("duplicate hold id '" + hold.id() + "', first at " + holdPaths.get(hold.id()));
                    continue;
                }
                holdPaths.put(hold.id(), h.path());
                holds.add(hold);
            }
        }
        return new AllocationSpec(o, rebalance, holds);
    }

    private HoldSpec hold(ConfigNode h, List<WindowLimit> windows, String defaultId) {
        if (!h.expectObject(HOLD)) {
            if (h.isMissing()) {
                h.error("must be a hold, was empty");
            }
            return null;
        }
        String id = h.get("id").string(defaultId);
        if (!ConfigLoader.ID.matcher(id).matches()) {
            h.get("id").error("must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit, was '" + id + "'");
            return null;
        }
        WindowLimit w = holdWindow(h.get("window"), windows);
        Limits tokens = holdTokens(h.get("tokens"));
        Duration forLast = h.get("for_last").duration(null);
        String forBudget = h.get("for").string(null);
        if (w == null || tokens == null) {
            return null;
        }
        for (Dimension d : Dimension.values()) {
            if (tokens.has(d) && !w.limits().has(d)) {
                h.get("tokens").error("holds " + d.label() + " tokens, but window '" + w.window().name()
                        + "' does not limit " + d.label() + " tokens");
                return null;
            }
        }
        if (forLast != null) {
            Duration shortest = SHORTEST.get(w.window().period());
            if (forLast.isZero() || forLast.isNegative() || forLast.compareTo(shortest) >= 0) {
                h.get("for_last").error("must be > 0 and shorter than the shortest " + w.window().period().name()
                        .toLowerCase(java.util.Locale.ROOT) + " (" + shortest.toHours() + "h), was "
                        + h.get("for_last").raw().asText());
                return null;
            }
        }
        if (forBudget == null && forLast == null) {
            h.error("needs 'for' (the child the tokens are held for), 'for_last' (held for the end of the window, "
                    + "e.g. 7d), or both");
            return null;
        }
        return new HoldSpec(id, w.window().name(), forBudget, tokens, forLast);
    }

    private WindowLimit holdWindow(ConfigNode n, List<WindowLimit> windows) {
        List<WindowLimit> calendar = calendarWindows(windows);
        String name = n.string(null);
        if (name == null) {
            if (calendar.size() != 1) {
                n.error(calendar.isEmpty() ? "holds need a calendar window (month, week or day) on this budget"
                        : "is required: this budget has several calendar windows "
                        + calendar.stream().map(w -> w.window().name()).toList());
                return null;
            }
            return calendar.get(0);
        }
        for (WindowLimit w : calendar) {
            if (w.window().name().equals(name)) {
                return w;
            }
        }
        n.error("no calendar window named '" + name + "' on this budget; calendar windows: "
                + calendar.stream().map(w -> w.window().name()).toList());
        return null;
    }

    private Limits holdTokens(ConfigNode n) {
        if (n.isMissing()) {
            n.error("is required: tokens held, e.g. 60M (total) or {input: 40M, output: 20M}");
            return null;
        }
        if (!n.raw().isObject()) {
            long t = n.positiveTokens();
            return t > 0 ? Limits.total(t) : null;
        }
        return limits.apply(n);
    }

    /** {@code overflow:} and {@code overflow_cap:} of a budget. */
    Overflow overflow(ConfigNode b) {
        boolean on = b.get("overflow").bool(false);
        ConfigNode cap = b.get("overflow_cap");
        if (cap.isMissing()) {
            return on ? Overflow.UNCAPPED : Overflow.ISOLATED;
        }
        if (!on) {
            cap.error("needs overflow: true (an isolated budget never draws from its parent's pool)");
            return Overflow.ISOLATED;
        }
        if (cap.raw().isTextual() && cap.raw().asText().trim().endsWith("%")) {
            int p = percent(cap, -1, 1, 1000);
            return p > 0 ? new Overflow(true, -1, p) : Overflow.UNCAPPED;
        }
        long t = cap.positiveTokens();
        return t > 0 ? new Overflow(true, t, -1) : Overflow.UNCAPPED;
    }

    /** A percent written {@code 50%} or {@code 50}. */
    private static int percent(ConfigNode n, int def, int min, int max) {
        if (n.isMissing()) {
            return def;
        }
        if (n.raw().isIntegralNumber()) {
            return n.integer(def, min, max);
        }
        Matcher m = n.raw().isTextual() ? PERCENT.matcher(n.raw().asText().trim()) : null;
        if (m == null || !m.matches() || Integer.parseInt(m.group(1)) < min || Integer.parseInt(m.group(1)) > max) {
            n.error("must be a percent in " + min + ".." + max + " such as 50%, was " + ConfigNode.describe(n.raw()));
            return def;
        }
        return Integer.parseInt(m.group(1));
    }

    private static List<WindowLimit> calendarWindows(List<WindowLimit> windows) {
        return windows.stream().filter(w -> w.window().period().isCalendar()).toList();
    }

    /** Checks that need the whole tree: overflow targets, hold beneficiaries, oversubscription. */
    void check(BudgetTree tree) {
        for (Budget b : tree.budgets()) {
            ConfigNode node = new ConfigNode(null, budgetPaths.getOrDefault(b.id(), "budgets"), errors);
            checkOverflow(tree, b, node);
            b.allocation().ifPresent(a -> a.holds().forEach(h -> checkHold(tree, b, h)));
            Oversubscription o = b.allocation().map(AllocationSpec::oversubscription).orElse(defaultOversubscription);
            if (o == Oversubscription.REJECT) {
                checkOversubscription(tree, b, node);
            }
        }
    }

    private static void checkOverflow(BudgetTree tree, Budget b, ConfigNode node) {
        if (!b.overflow().enabled()) {
            return;
        }
        Budget parent = b.parent().flatMap(tree::get).orElse(null);
        if (parent == null) {
            node.get("overflow").error("a root budget has no parent pool to overflow into");
            return;
        }
        boolean linked = b.windows().stream().anyMatch(w -> w.window().period().isCalendar()
                && AllocationTree.matching(parent, w).isPresent());
        if (!linked) {
            node.get("overflow").error("parent '" + parent.id() + "' has no calendar window of the same period as "
                    + "this budget's to overflow into (pools are per calendar window: month, week or day)");
        }
        if (b.hardStopPercent() < 0) {
            node.get("overflow").error("needs a hard_stop threshold: a budget that never rejects never needs its "
                    + "parent's pool");
        }
    }

    private void checkHold(BudgetTree tree, Budget b, HoldSpec h) {
        if (h.forBudget() == null) {
            return;
        }
        ConfigNode at = new ConfigNode(null, holdPaths.get(h.id()), errors).get("for");
        if (!tree.contains(h.forBudget())) {
            at.error("unknown budget '" + h.forBudget() + "'");
        } else if (!tree.children(b.id()).contains(h.forBudget())) {
            at.error("'" + h.forBudget() + "' is not a child of '" + b.id() + "': a hold is for a direct child");
        } else {
            Budget child = tree.get(h.forBudget()).orElseThrow();
            WindowLimit pw = b.windows().stream().filter(w -> w.window().name().equals(h.window())).findFirst()
                    .orElseThrow();
            if (child.windows().stream().noneMatch(w -> w.window().sameSpanAs(pw.window()))) {
                at.error("'" + h.forBudget() + "' has no window of the same period as '" + h.window()
                        + "', so what it has consumed of the hold cannot be told");
            }
        }
    }

    private static void checkOversubscription(BudgetTree tree, Budget parent, ConfigNode node) {
        for (int i = 0; i < parent.windows().size(); i++) {
            WindowLimit pw = parent.windows().get(i);
            for (Dimension d : Dimension.values()) {
                if (!pw.limits().has(d)) {
                    continue;
                }
                long sum = 0;
                List<String> parts = new ArrayList<>();
                for (String c : tree.children(parent.id())) {
                    for (WindowLimit cw : tree.get(c).orElseThrow().windows()) {
                        if (cw.window().sameSpanAs(pw.window()) && cw.limits().has(d)) {
                            sum += cw.limits().get(d);
                            parts.add(c + " " + Quantities.formatTokens(cw.limits().get(d)));
                            break;
                        }
                    }
                }
                if (sum > pw.limits().get(d)) {
                    node.get("windows[" + i + "]").get("limits").get(d.label()).error("the children of '"
                            + parent.id() + "' are allotted " + Quantities.formatTokens(sum) + " " + d.label()
                            + " tokens per " + pw.window().name() + " (" + String.join(" + ", parts)
                            + "), more than its " + Quantities.formatTokens(pw.limits().get(d))
                            + "; oversubscription is 'reject' (set allocation.oversubscription: allow on '"
                            + parent.id() + "' to permit it)");
                }
            }
        }
    }
}
