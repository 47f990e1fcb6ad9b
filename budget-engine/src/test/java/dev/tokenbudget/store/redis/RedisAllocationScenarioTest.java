package dev.tokenbudget.store.redis;

import dev.tokenbudget.engine.AbstractAllocationScenarioTest;
import dev.tokenbudget.store.BudgetStore;
import org.junit.jupiter.api.AfterEach;

import java.time.Duration;

/** The allocation scenario on the shared Redis; the second engine has a Lettuce client of its own. */
class RedisAllocationScenarioTest extends AbstractAllocationScenarioTest {

    private final String prefix = TestRedis.uniquePrefix("alloc");

    @Override
    protected BudgetStore newStore() {
        return RedisBudgetStore.open(TestRedis.uri(), Duration.ofSeconds(5), prefix);
    }

    @Override
    protected BudgetStore sharedStoreForSecondEngine() {
        return newStore();
    }

    @AfterEach
    void deleteKeys() {
        TestKeys.deleteByPrefix(TestRedis.uri(), prefix);
    }
}
