package dev.tokenbudget.store;

import java.util.List;

/**
 * What a store keeps about a pool window and its linked children, for status and audits.
 *
 * @param contributions  tokens rebalances moved into the pool in this window
 * @param poolUsed       the sum of the children's current draws
 * @param rebalanced     whether this window's rebalance was claimed
 * @param given          per child (in the order asked), what it gave to the pool
 * @param draws          per child, what it currently draws from the pool
 * @param holds          holds made at run time on the pool window that are still in force
 */
public record AllocationState(TokenCounts contributions, TokenCounts poolUsed, boolean rebalanced,
                              List<TokenCounts> given, List<TokenCounts> draws, List<Hold> holds) {

    public AllocationState {
        given = List.copyOf(given);
        draws = List.copyOf(draws);
        holds = List.copyOf(holds);
    }
}
