package dev.tokenbudget.store.redis;

import dev.tokenbudget.engine.AbstractNeverFitsTest;
import dev.tokenbudget.store.BudgetStore;
import org.junit.jupiter.api.AfterEach;

import java.time.Duration;

/** Requests that can never fit, and ones that only have to wait, on the shared Redis. */
class RedisNeverFitsTest extends AbstractNeverFitsTest {

    private final String prefix = TestRedis.uniquePrefix("never");

    @Override
    protected BudgetStore newStore() {
        return RedisBudgetStore.open(TestRedis.uri(), Duration.ofSeconds(5), prefix);
    }

    @AfterEach
    void deleteKeys() {
        TestKeys.deleteByPrefix(TestRedis.uri(), prefix);
    }
}
