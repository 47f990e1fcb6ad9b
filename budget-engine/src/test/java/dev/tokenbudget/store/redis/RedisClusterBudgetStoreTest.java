package dev.tokenbudget.store.redis;

import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.store.AbstractBudgetStoreTest;
import dev.tokenbudget.store.BudgetStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;

/** The conformance suite on a three-master Redis Cluster started for this class. */
class RedisClusterBudgetStoreTest extends AbstractBudgetStoreTest {

    private static RedisTestCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = RedisTestCluster.start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    protected BudgetStore createStore() {
        return RedisBudgetStore.open(new StoreSettings("redis", cluster.uris(), true, Duration.ofSeconds(5),
                TestRedis.uniquePrefix("cluster")));
    }

    @Override
    protected void letStoreTimePass(Duration d) {
        // every node runs on this machine's clock; wait on each so that whichever owns the tree has moved on
        for (RedisTestServer n : cluster.nodes()) {
            RedisTime.waitFor(n.port(), d);
        }
    }

    @Override
    protected int concurrencyRounds() {
        return 150;
    }
}
