package dev.tokenbudget.store.redis;

import dev.tokenbudget.engine.AbstractOutputClampTest;
import dev.tokenbudget.store.BudgetStore;
import org.junit.jupiter.api.AfterEach;

import java.time.Duration;

/** Output clamping and degradation past a limit on the shared Redis. */
class RedisOutputClampTest extends AbstractOutputClampTest {

    private final String prefix = TestRedis.uniquePrefix("clamp");

    @Override
    protected BudgetStore newStore() {
        return RedisBudgetStore.open(TestRedis.uri(), Duration.ofSeconds(5), prefix);
    }

    @AfterEach
    void deleteKeys() {
        TestKeys.deleteByPrefix(TestRedis.uri(), prefix);
    }
}
