package dev.tokenbudget.allocation;

/**
 * Auto-rebalance of a parent budget, once per window: when {@code atPercent} of the window has
 * passed, every child whose utilisation (used + reserved over its limit, per dimension) is below
 * {@code belowPercent} gives {@code sharePercent} of its unused allocation, and at most
 * {@code maxPercent} of its allocation, to the parent's overflow pool.
 *
 * @param atPercent     point of the window, 1..99 percent of its length from its start
 * @param belowPercent  utilisation under which a child gives, 1..100
 * @param sharePercent  part of its unused allocation a child gives, 1..100
 * @param maxPercent    most a child gives, in percent of its allocation, 1..100
 */
public record RebalanceSpec(int atPercent, int belowPercent, int sharePercent, int maxPercent) {

    public RebalanceSpec {
        check("at", atPercent, 1, 99);
        check("below", belowPercent, 1, 100);
        check("share", sharePercent, 1, 100);
        check("max", maxPercent, 1, 100);
    }

    private static void check(String what, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException("rebalance." + what + " must be in " + min + ".." + max + " percent, was "
                    + v);
        }
    }
}
