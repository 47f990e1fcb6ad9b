package dev.tokenbudget.engine;

import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;

/** Output clamping and degradation past a limit on the embedded store. */
class OutputClampTest extends AbstractOutputClampTest {

    @Override
    protected BudgetStore newStore() {
        return new InMemoryBudgetStore();
    }
}
