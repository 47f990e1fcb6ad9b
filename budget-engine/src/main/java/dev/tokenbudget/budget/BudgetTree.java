package dev.tokenbudget.budget;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The budgets of a config as a forest: each budget with its parent, children, and its chain up to
 * the root precomputed, so a request's path costs a map lookup. Immutable; the config loader
 * guarantees that parents exist and that there are no cycles.
 */
public final class BudgetTree {

    private final Map<String, Budget> byId;
    private final Map<String, List<Budget>> chains;
    private final Map<String, List<String>> children;

    public BudgetTree(List<Budget> budgets) {
        Map<String, Budget> m = new LinkedHashMap<>();
        for (Budget b : budgets) {
            if (m.put(b.id(), b) != null) {
                throw new IllegalArgumentException("duplicate budget id " + b.id());
            }
        }
        Map<String, List<String>> kids = new LinkedHashMap<>();
        m.keySet().forEach(id -> kids.put(id, new ArrayList<>()));
        Map<String, List<Budget>> ch = new LinkedHashMap<>();
        for (Budget b : m.values()) {
            List<Budget> chain = new ArrayList<>();
            Budget cur = b;
            while (cur != null) {
                if (chain.contains(cur)) {
                    throw new IllegalArgumentException("budget parents form a cycle at " + cur.id());
                }
                chain.add(cur);
                String p = cur.parent().orElse(null);
                if (p != null && !m.containsKey(p)) {
                    throw new IllegalArgumentException("budget " + cur.id() + " has unknown parent " + p);
                }
                cur = p == null ? null : m.get(p);
            }
            ch.put(b.id(), List.copyOf(chain));
            b.parent().ifPresent(p -> kids.get(p).add(b.id()));
        }
        this.byId = Collections.unmodifiableMap(m);
        this.chains = Collections.unmodifiableMap(ch);
        Map<String, List<String>> frozen = new LinkedHashMap<>();
        kids.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
        this.children = Collections.unmodifiableMap(frozen);
    }

    public Optional<Budget> get(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    public boolean contains(String id) {
        return byId.containsKey(id);
    }

    /** All budgets in config order. */
    public List<Budget> budgets() {
        return List.copyOf(byId.values());
    }

    /** The budget and its ancestors, the budget first and the root last. */
    public List<Budget> chain(String id) {
        List<Budget> c = chains.get(id);
        if (c == null) {
            throw new IllegalArgumentException("unknown budget " + id);
        }
        return c;
    }

    public String rootOf(String id) {
        List<Budget> c = chain(id);
        return c.get(c.size() - 1).id();
    }

    public List<String> children(String id) {
        return children.getOrDefault(id, List.of());
    }

    /** Whether {@code id} is {@code ancestor} or lies below it. */
    public boolean isWithin(String id, String ancestor) {
        for (Budget b : chain(id)) {
            if (b.id().equals(ancestor)) {
                return true;
            }
        }
        return false;
    }

    /** A copy with one budget replaced (same id, same parent). */
    public BudgetTree with(Budget replacement) {
        List<Budget> list = new ArrayList<>(byId.values());
        list.replaceAll(b -> b.id().equals(replacement.id()) ? replacement : b);
        return new BudgetTree(list);
    }
}
