package dev.tokenbudget.alert;

import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;

/** Once-only alerts across two engines on one in-memory store and one set of in-memory claims. */
class OnceOnlyAlertsTest extends AbstractOnceOnlyAlertsTest {

    private final InMemoryBudgetStore store = new InMemoryBudgetStore();
    private final InMemoryAlertClaims claims = new InMemoryAlertClaims();

    @Override
    protected BudgetStore newStore() {
        return store; // the same object for both engines: one state (closing it is a no-op)
    }

    @Override
    protected AlertClaims newClaims() {
        return claims;
    }
}
