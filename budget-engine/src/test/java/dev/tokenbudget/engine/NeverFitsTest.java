package dev.tokenbudget.engine;

import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;

/** Requests that can never fit, and ones that only have to wait, on the embedded store. */
class NeverFitsTest extends AbstractNeverFitsTest {

    @Override
    protected BudgetStore newStore() {
        return new InMemoryBudgetStore();
    }
}
