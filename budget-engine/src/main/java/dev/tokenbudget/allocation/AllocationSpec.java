package dev.tokenbudget.allocation;

import java.util.List;
import java.util.Objects;

/**
 * How a parent budget allots its windows to its children ({@code allocation:} in the config):
 * whether they may oversubscribe it, when to rebalance unused allocation into its overflow pool,
 * and the tokens it holds for a child or for the end of the window. A budget with an allocation
 * (or with a child that overflows) keeps an overflow pool per calendar window. See docs/allocation.md.
 *
 * @param oversubscription whether the children's limits may add up to more than this budget's
 * @param rebalance        the auto-rebalance rule, or null for none
 * @param holds            holds declared in the config
 */
public record AllocationSpec(Oversubscription oversubscription, RebalanceSpec rebalance, List<HoldSpec> holds) {

    public AllocationSpec {
        Objects.requireNonNull(oversubscription, "oversubscription");
        holds = List.copyOf(holds);
    }
}
