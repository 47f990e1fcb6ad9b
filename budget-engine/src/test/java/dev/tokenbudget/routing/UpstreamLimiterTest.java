package dev.tokenbudget.routing;

import dev.tokenbudget.time.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class UpstreamLimiterTest {

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-28T10:00:00Z"));

    private UpstreamLimiter limiter(TierLimits limits, Duration maxWait, Map<String, Integer> weights) {
        return new UpstreamLimiter("test", limits, maxWait, weights, clock, null);
    }

    @Test
    void grantsAtOnceWhileTheQuotaHasRoom() {
        UpstreamLimiter l = limiter(TierLimits.openAi(500, 30_000), Duration.ofSeconds(2), Map.of());
        UpstreamLimiter.Permit p = l.acquire("t", 1000, 500).join();
        assertThat(p.granted()).isTrue();
        assertThat(p.waitedNanos()).isZero();
        assertThat(l.levels()).containsEntry("tokens", 28_500L).containsEntry("requests", 499L);
    }

    @Test
    void refusesARequestThatCanNeverFitBeforeItCostsAProvider429() {
        UpstreamLimiter l = limiter(TierLimits.anthropic(50, 30_000, 8_000), Duration.ofSeconds(2), Map.of());
        UpstreamLimiter.Permit p = l.acquire("t", 1000, 9000).join(); // OTPM is 8000
        assertThat(p.granted()).isFalse();
        assertThat(p.retryAfterSeconds()).isPositive();
    }

    @Test
    void waitsBrieflyForRefillThenRefusesWithRetryAfter() {
        UpstreamLimiter l = limiter(TierLimits.openAi(1000, 6_000), Duration.ofSeconds(5), Map.of());
        assertThat(l.acquire("t", 6000, 0).join().granted()).isTrue(); // bucket empty now
        CompletableFuture<UpstreamLimiter.Permit> soon = l.acquire("t", 300, 0); // refills in 3 s
        CompletableFuture<UpstreamLimiter.Permit> late = l.acquire("t", 3000, 0); // would need 33 s more
        assertThat(soon).isNotDone();
        clock.advance(Duration.ofSeconds(3));
        l.poll();
        assertThat(soon).isCompleted();
        assertThat(soon.join().granted()).isTrue();
        assertThat(soon.join().waitedNanos()).isEqualTo(Duration.ofSeconds(3).toNanos());
        clock.advance(Duration.ofSeconds(3));
        l.poll();
        UpstreamLimiter.Permit refused = late.join();
        assertThat(refused.granted()).isFalse();
        assertThat(refused.retryAfterSeconds()).isBetween(20L, 30L);
        assertThat(l.waiting()).isZero();
    }

    @Test
    void settlingBelowTheEstimateGivesTokensBack() {
        UpstreamLimiter l = limiter(TierLimits.anthropic(100, 10_000, 4_000), Duration.ofSeconds(1), Map.of());
        UpstreamLimiter.Permit p = l.acquire("t", 2000, 4000).join();
        assertThat(l.levels()).containsEntry("output", 0L);
        l.settle(p, 2000, 1000);
        assertThat(l.levels()).containsEntry("output", 3000L).containsEntry("input", 8000L);
    }

    /** Both tenants keep the queue full: capacity splits 3:1 by weight. */
    @Test
    void weightedTenantsSaturatingShareInProportionToTheirWeights() {
        UpstreamLimiter l = limiter(TierLimits.openAi(100_000, 6_000), Duration.ofHours(1),
                Map.of("heavy", 3, "light", 1));
        l.acquire("heavy", 6000, 0).join(); // drain the burst so that everything below waits
        List<CompletableFuture<UpstreamLimiter.Permit>> a = new ArrayList<>();
        List<CompletableFuture<UpstreamLimiter.Permit>> b = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            a.add(l.acquire("heavy", 100, 0));
            b.add(l.acquire("light", 100, 0));
        }
        for (int s = 0; s < 300; s++) { // 5 minutes: 300 grants of 100 tokens at 6000/min
            clock.advance(Duration.ofSeconds(1));
            l.poll();
        }
        long ga = a.stream().filter(CompletableFuture::isDone).count();
        long gb = b.stream().filter(CompletableFuture::isDone).count();
        double share = (double) ga / (ga + gb);
        assertThat(ga + gb).isBetween(295L, 301L);
        assertThat(share).isBetween(0.70, 0.80);
    }

    /** A light tenant arriving now and then waits about one request's refill, however deep the flood. */
    @Test
    void aLightTenantIsNotStarvedByAFlood() {
        UpstreamLimiter l = limiter(TierLimits.openAi(100_000, 6_000), Duration.ofHours(1), Map.of());
        List<CompletableFuture<UpstreamLimiter.Permit>> flood = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            flood.add(l.acquire("heavy", 100, 0));
        }
        List<Long> waits = new ArrayList<>();
        for (int s = 1; s <= 600; s++) {
            CompletableFuture<UpstreamLimiter.Permit> mine = null;
            if (s % 10 == 0) {
                mine = l.acquire("small", 100, 0);
            }
            for (int k = 0; k < 4 && mine != null && !mine.isDone(); k++) {
                clock.advance(Duration.ofMillis(500));
                l.poll();
            }
            if (mine != null) {
                assertThat(mine).isDone();
                waits.add(mine.join().waitedNanos());
            } else {
                clock.advance(Duration.ofSeconds(1));
                l.poll();
            }
        }
        Collections.sort(waits);
        long p99 = waits.get((int) Math.ceil(waits.size() * 0.99) - 1);
        assertThat(Duration.ofNanos(p99)).isLessThanOrEqualTo(Duration.ofSeconds(2));
        assertThat(flood.stream().filter(f -> !f.isDone()).count()).as("the flood is still queued").isPositive();
    }

    /** Many threads on one limiter while a driver advances time: no grant beyond the quota, none lost. */
    @Test
    void concurrentTenantsNeverExceedTheQuotaAndSplitByWeight() throws Exception {
        UpstreamLimiter l = limiter(TierLimits.openAi(1_000_000, 60_000), Duration.ofHours(1),
                Map.of("a", 3, "b", 1));
        l.acquire("a", 60_000, 0).join();
        int threadsPerTenant = 8;
        ExecutorService pool = Executors.newFixedThreadPool(2 * threadsPerTenant);
        Map<String, AtomicLong> granted = new ConcurrentHashMap<>(Map.of("a", new AtomicLong(), "b", new AtomicLong()));
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch ready = new CountDownLatch(2 * threadsPerTenant);
        for (String tenant : List.of("a", "b")) {
            for (int i = 0; i < threadsPerTenant; i++) {
                pool.submit(() -> {
                    ready.countDown();
                    // each thread keeps one request in flight: both tenants stay backlogged
                    while (!stop.get()) {
                        UpstreamLimiter.Permit p = l.acquire(tenant, 1000, 0).join();
                        if (p.granted()) {
                            granted.get(tenant).addAndGet(1000);
                        }
                    }
                    return null;
                });
            }
        }
        ready.await();
        long minutes = 3;
        for (int s = 0; s < minutes * 60; s++) {
            // wait (bounded) until both tenants have someone queued, then let a second of tokens refill
            for (int spin = 0; spin < 5_000_000 && l.waiting() < 2 * threadsPerTenant; spin++) {
                Thread.yield();
            }
            clock.advance(Duration.ofSeconds(1));
            l.poll();
        }
        long grantedA = granted.get("a").get();
        long grantedB = granted.get("b").get();
        stop.set(true);
        for (int s = 0; s < 120; s++) { // release the threads still waiting
            clock.advance(Duration.ofSeconds(1));
            l.poll();
        }
        pool.shutdown();
        assertThat(pool.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
        long total = granted.get("a").get() + granted.get("b").get();
        // never more than the refill of the time that passed (plus what the drain let through)
        assertThat(total).isLessThanOrEqualTo((minutes * 60 + 120) * 1000 + 1000);
        double share = (double) grantedA / (grantedA + grantedB);
        assertThat(grantedA + grantedB).isGreaterThan(minutes * 60 * 1000 / 2);
        assertThat(share).isBetween(0.70, 0.80);
    }
}
