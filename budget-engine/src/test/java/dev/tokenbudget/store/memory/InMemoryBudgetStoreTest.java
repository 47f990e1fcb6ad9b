package dev.tokenbudget.store.memory;

import dev.tokenbudget.store.AbstractBudgetStoreTest;
import dev.tokenbudget.store.BudgetStore;

/** The conformance suite on the embedded store. */
class InMemoryBudgetStoreTest extends AbstractBudgetStoreTest {

    @Override
    protected BudgetStore createStore() {
        return new InMemoryBudgetStore();
    }

    @Override
    protected int concurrencyRounds() {
        return 2_000;
    }
}
