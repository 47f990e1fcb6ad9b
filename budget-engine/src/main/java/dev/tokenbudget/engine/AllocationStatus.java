package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.store.TokenCounts;

import java.util.List;

/**
 * The overflow pools of a budget that allocates, one per calendar window instance in force
 * ({@link BudgetEngine#allocation}). Per dimension, a pool balances:
 * {@code headroom + contributions = used + remaining} (remaining may be negative only by usage
 * settled above its reservation, the documented overspend).
 *
 * @param budgetId  the allocating budget
 * @param pools     one per calendar window
 */
public record AllocationStatus(String budgetId, List<Pool> pools) {

    /**
     * One pool.
     *
     * @param window         the window instance ({@code month:2026-05})
     * @param headroom       the budget's limit its children were not allotted
     * @param contributions  what rebalances moved in this window
     * @param used           what overflowing children draw
     * @param remaining      {@code headroom + contributions − used}
     * @param rebalanced     whether this window's rebalance ran
     * @param children       the children linked to the pool
     * @param holds          holds in force on the window (config and run time)
     */
    public record Pool(String window, TokenCounts headroom, TokenCounts contributions, TokenCounts used,
                       TokenCounts remaining, boolean rebalanced, List<Child> children, List<HoldStatus> holds) {
    }

    /**
     * A child's allocation in a pool window.
     *
     * @param budgetId   the child
     * @param overflow   whether it may draw from the pool
     * @param limits     its limits (its allocation)
     * @param given      what it gave to the pool in rebalances
     * @param committed  its used + reserved tokens
     * @param draw       what it currently draws from the pool
     */
    public record Child(String budgetId, boolean overflow, Limits limits, TokenCounts given, TokenCounts committed,
                        TokenCounts draw) {
    }

    /**
     * A hold in force.
     *
     * @param hold        the hold
     * @param window      the window instance it holds tokens of
     * @param fromConfig  declared in the config (else made at run time)
     * @param unconsumed  tokens still held: what its beneficiary has not used yet (all, without one)
     */
    public record HoldStatus(Hold hold, String window, boolean fromConfig, TokenCounts unconsumed) {
    }
}
