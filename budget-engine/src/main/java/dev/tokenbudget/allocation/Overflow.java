package dev.tokenbudget.allocation;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;

/**
 * Whether a child may draw from its parent's overflow pool once its own allocation is spent, and
 * how much at most. An {@link #ISOLATED} child never draws.
 *
 * @param enabled     the child opted into the pool ({@code overflow: true})
 * @param capTokens   most the child may draw per window, in each limited dimension; -1 for none
 * @param capPercent  most the child may draw per window, in percent of its limit; -1 for none
 */
public record Overflow(boolean enabled, long capTokens, int capPercent) {

    public static final Overflow ISOLATED = new Overflow(false, -1, -1);

    /** Drawing without a cap of its own: the pool's size is the only bound. */
    public static final Overflow UNCAPPED = new Overflow(true, -1, -1);

    public Overflow {
        if (capTokens != -1 && capTokens <= 0 || capPercent != -1 && (capPercent < 1 || capPercent > 1000)) {
            throw new IllegalArgumentException("overflow cap must be > 0 tokens or 1..1000 percent");
        }
        if (capTokens > 0 && capPercent > 0) {
            throw new IllegalArgumentException("overflow cap is either tokens or a percent, not both");
        }
    }

    /** The draw cap for a window with {@code limits}: per limited dimension, NONE where unbounded. */
    public Limits capFor(Limits limits) {
        Limits out = new Limits(Limits.NONE, Limits.NONE, Limits.NONE);
        for (Dimension d : Dimension.values()) {
            if (!limits.has(d)) {
                continue;
            }
            if (capTokens > 0) {
                out = out.with(d, capTokens);
            } else if (capPercent > 0) {
                out = out.with(d, Math.max(1, Percent.of(limits.get(d), capPercent)));
            }
        }
        return out;
    }
}
