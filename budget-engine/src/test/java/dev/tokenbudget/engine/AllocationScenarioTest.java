package dev.tokenbudget.engine;

import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;

/** The allocation scenario on the embedded store. */
class AllocationScenarioTest extends AbstractAllocationScenarioTest {

    private InMemoryBudgetStore store;

    @Override
    protected BudgetStore newStore() {
        store = new InMemoryBudgetStore();
        return store;
    }

    @Override
    protected BudgetStore sharedStoreForSecondEngine() {
        // one process shares one embedded store; closing it twice is harmless
        return store;
    }
}
