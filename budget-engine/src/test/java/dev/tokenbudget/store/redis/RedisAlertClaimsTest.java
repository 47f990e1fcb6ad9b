package dev.tokenbudget.store.redis;

import dev.tokenbudget.alert.AbstractOnceOnlyAlertsTest;
import dev.tokenbudget.alert.AlertClaims;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.store.BudgetStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Alert claims on a real Redis: once per key across instances and threads, until the TTL ends. */
class RedisAlertClaimsTest {

    private final String prefix = TestRedis.uniquePrefix("claims");
    private final List<RedisAlertClaims> opened = new ArrayList<>();

    private RedisAlertClaims open() {
        RedisAlertClaims c = RedisAlertClaims.open(new StoreSettings("redis", TestRedis.uri(), false,
                Duration.ofSeconds(5), prefix));
        opened.add(c);
        return c;
    }

    @AfterEach
    void cleanUp() {
        opened.forEach(RedisAlertClaims::close);
        TestRedis.deleteKeys(prefix);
    }

    @Test
    void eachKeyIsWonExactlyOnceAcrossInstancesAndThreads() throws Exception {
        List<RedisAlertClaims> instances = List.of(open(), open());
        int threadsPer = 4;
        int keys = 200;
        ConcurrentHashMap<String, AtomicInteger> wins = new ConcurrentHashMap<>();
        CyclicBarrier start = new CyclicBarrier(instances.size() * threadsPer);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        Instant now = Instant.parse("2026-11-01T00:00:00Z");
        for (RedisAlertClaims c : instances) {
            for (int t = 0; t < threadsPer; t++) {
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                        for (int k = 0; k < keys; k++) {
                            String key = "predicted:b" + k + "/month:2026-11/t100";
                            if (c.claim(key, now, now.plus(Duration.ofMinutes(5)))) {
                                wins.computeIfAbsent(key, x -> new AtomicInteger()).incrementAndGet();
                            }
                        }
                    } catch (Exception e) {
                        failures.add(e);
                    }
                });
                th.start();
                threads.add(th);
            }
        }
        for (Thread th : threads) {
            th.join();
        }
        assertThat(failures).isEmpty();
        assertThat(wins).hasSize(keys);
        assertThat(wins.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
    }

    @Test
    void aClaimExpiresAfterItsTtlByRedisClock() throws Exception {
        AlertClaims c = open();
        Instant now = Instant.now();
        assertThat(c.claim("k", now, now.plusMillis(50))).isTrue();
        assertThat(c.claim("k", now, now.plusMillis(50))).isFalse();
        boolean again = false;
        for (int i = 0; i < 500 && !again; i++) {
            Thread.sleep(10);
            again = c.claim("k", now, now.plusMillis(50));
        }
        assertThat(again).isTrue();
        assertThat(c.claim("other", now, now.plus(Duration.ofMinutes(1)))).isTrue();
    }

    @Test
    void aRedisThatIsDownIsAStoreFailureNotAFalseAnswer() {
        RedisAlertClaims c = RedisAlertClaims.open(new StoreSettings("redis", "redis://127.0.0.1:1", false,
                Duration.ofMillis(200), prefix));
        opened.add(c);
        Instant now = Instant.now();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.claim("k", now, now.plusSeconds(60)))
                .isInstanceOf(dev.tokenbudget.store.StoreUnavailableException.class);
    }

    /** The once-only alert suite with two engines, each on its own Redis store connection and claims. */
    @Nested
    class TwoEnginesOnOneRedis extends AbstractOnceOnlyAlertsTest {
        private final List<BudgetStore> stores = new ArrayList<>();

        @Override
        protected BudgetStore newStore() {
            BudgetStore s = RedisBudgetStore.open(TestRedis.uri(), Duration.ofSeconds(5), prefix);
            stores.add(s);
            return s;
        }

        @Override
        protected AlertClaims newClaims() {
            return open();
        }
    }
}
