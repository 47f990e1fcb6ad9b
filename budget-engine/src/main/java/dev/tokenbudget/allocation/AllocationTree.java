package dev.tokenbudget.allocation;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.BudgetTree;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.store.TokenCounts;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which budgets of a tree allot their calendar windows to their children, computed once per
 * config: a budget <em>allocates</em> when it has an {@code allocation:} section or a child with
 * {@code overflow: true}; each of its calendar windows then keeps an overflow pool, and each
 * child's calendar window of the same span is <em>linked</em> to it. Rolling windows cascade
 * (every cap binds) but take no part in pools, holds or rebalancing: their usage leaves them
 * continuously, which an incremental pool could not follow. Immutable.
 */
public final class AllocationTree {

    /** A child's window and the parent window it draws from and is mirrored into. */
    public record Link(String parent, WindowLimit parentWindow) {
    }

    private final Map<String, Link> links = new HashMap<>();
    private final Map<String, List<String>> linkedChildren = new HashMap<>();
    private final Map<String, TokenCounts> headroom = new HashMap<>();

    public AllocationTree(BudgetTree tree) {
        for (Budget b : tree.budgets()) {
            String p = b.parent().orElse(null);
            if (p == null || !allocates(tree, tree.get(p).orElseThrow())) {
                continue;
            }
            Budget parent = tree.get(p).orElseThrow();
            for (WindowLimit w : b.windows()) {
                if (w.window().period().isCalendar()) {
                    matching(parent, w).ifPresent(pw -> {
                        links.put(key(b.id(), w.window().name()), new Link(p, pw));
                        linkedChildren.computeIfAbsent(key(p, pw.window().name()), k -> new ArrayList<>()).add(b.id());
                    });
                }
            }
        }
        for (Budget b : tree.budgets()) {
            if (!allocates(tree, b)) {
                continue;
            }
            for (WindowLimit pw : b.windows()) {
                if (pw.window().period().isCalendar()) {
                    headroom.put(key(b.id(), pw.window().name()), headroom(tree, b, pw));
                }
            }
        }
    }

    /** Whether {@code b} keeps overflow pools: it has an allocation section or an overflowing child. */
    public static boolean allocates(BudgetTree tree, Budget b) {
        if (b.allocation().isPresent()) {
            return true;
        }
        for (String c : tree.children(b.id())) {
            if (tree.get(c).orElseThrow().overflow().enabled()) {
                return true;
            }
        }
        return false;
    }

    /** The parent's window of the same span as {@code w} (the same name first), if any. */
    public static Optional<WindowLimit> matching(Budget parent, WindowLimit w) {
        WindowLimit found = null;
        for (WindowLimit pw : parent.windows()) {
            if (pw.window().sameSpanAs(w.window())
                    && (found == null || pw.window().name().equals(w.window().name()))) {
                found = pw;
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * Unallocated headroom of a parent window, per dimension: its limit minus the limits of its
     * linked children, never below 0 (an oversubscribed parent has none); 0 where it has no limit.
     */
    private TokenCounts headroom(BudgetTree tree, Budget parent, WindowLimit pw) {
        long[] h = new long[3];
        List<String> kids = linkedChildren.getOrDefault(key(parent.id(), pw.window().name()), List.of());
        for (Dimension d : Dimension.values()) {
            if (!pw.limits().has(d)) {
                continue;
            }
            long sum = 0;
            for (String c : kids) {
                WindowLimit cw = childWindow(tree.get(c).orElseThrow(), parent.id(), pw);
                if (cw != null && cw.limits().has(d)) {
                    sum += cw.limits().get(d);
                }
            }
            h[d.ordinal()] = Math.max(0, pw.limits().get(d) - sum);
        }
        return new TokenCounts(h[0], h[1], h[2]);
    }

    private WindowLimit childWindow(Budget child, String parent, WindowLimit pw) {
        for (WindowLimit w : child.windows()) {
            Link l = links.get(key(child.id(), w.window().name()));
            if (l != null && l.parent().equals(parent) && l.parentWindow().equals(pw)) {
                return w;
            }
        }
        return null;
    }

    /** Whether no budget of the tree allocates (then the engine needs nothing of a store beyond caps). */
    public boolean isEmpty() {
        return headroom.isEmpty();
    }

    /** The parent window that a child's window is linked to, if any. */
    public Optional<Link> link(String childId, String windowName) {
        return Optional.ofNullable(links.get(key(childId, windowName)));
    }

    /** Whether a budget's window keeps an overflow pool (its budget allocates, and it is a calendar window). */
    public boolean isPool(String budgetId, String windowName) {
        return headroom.containsKey(key(budgetId, windowName));
    }

    /** Unallocated headroom of a pool window; null when the window keeps no pool. */
    public TokenCounts headroom(String budgetId, String windowName) {
        return headroom.get(key(budgetId, windowName));
    }

    /** The children linked to a pool window, in config order. */
    public List<String> children(String budgetId, String windowName) {
        return linkedChildren.getOrDefault(key(budgetId, windowName), List.of());
    }

    private static String key(String budget, String window) {
        return budget + "\u0000" + window;
    }
}
