package dev.tokenbudget.store.redis;

import dev.tokenbudget.store.AbstractBudgetStoreTest;
import dev.tokenbudget.store.BudgetStore;
import org.junit.jupiter.api.AfterEach;

import java.time.Duration;

/** The conformance suite on a standalone Redis (the shared test Redis, keys under a prefix of its own). */
class RedisBudgetStoreTest extends AbstractBudgetStoreTest {

    private String prefix;

    @Override
    protected BudgetStore createStore() {
        prefix = TestRedis.uniquePrefix("conf");
        return RedisBudgetStore.open(TestRedis.uri(), Duration.ofSeconds(5), prefix);
    }

    @Override
    protected void letStoreTimePass(Duration d) {
        RedisTime.waitFor(TestRedis.port(), d);
    }

    @Override
    protected int concurrencyRounds() {
        return 150;
    }

    @AfterEach
    void deleteKeys() {
        TestKeys.deleteByPrefix(TestRedis.uri(), prefix);
    }
}
