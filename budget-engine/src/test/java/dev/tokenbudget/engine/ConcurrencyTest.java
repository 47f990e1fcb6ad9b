package dev.tokenbudget.engine;

import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.tokenbudget.engine.EngineFixture.sha;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The overspend bound (docs/overspend.md): with reserve-then-settle, a hard_stop budget's used
 * tokens never exceed its cap plus, per request in flight, what its actual usage exceeded its
 * reservation by. These tests hammer one tree from 32 threads.
 */
class ConcurrencyTest {

    private static final int THREADS = 32;
    private static final String YAML = """
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 200000 } }]
              - id: team-a
                parent: org
                windows: [{ period: month, limits: { total: 150000 } }]
              - id: team-b
                parent: org
                windows: [{ period: month, limits: { total: 150000 } }]
            keys:
              - { name: a, sha256: %s, budget: team-a }
              - { name: b, sha256: %s, budget: team-b }
            """.formatted(sha("a"), sha("b"));

    /** The same tree, both teams degraded from 60 % to answers of at most 100 tokens; team-b clamps to what is left. */
    private static final String DEGRADING = """
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 200000 } }]
              - id: team-a
                parent: org
                windows: [{ period: month, limits: { total: 150000 } }]
                thresholds: [{ at: 60, policy: degrade_route }, { at: 100, policy: hard_stop }]
                degrade: { max_output_tokens: 100 }
              - id: team-b
                parent: org
                windows: [{ period: month, limits: { total: 150000 } }]
                thresholds: [{ at: 60, policy: degrade_route }, { at: 100, policy: hard_stop }]
                degrade: { max_output_tokens: 100, clamp_to_remaining: true }
            keys:
              - { name: a, sha256: %s, budget: team-a }
              - { name: b, sha256: %s, budget: team-b }
            """.formatted(sha("a"), sha("b"));

    private record Totals(long admitted, long settled, long rejected, long lowered) {
    }

    private static Totals hammer(EngineFixture f, int perThread, long overrun) throws Exception {
        var keys = List.of(f.key("a"), f.key("b"));
        AtomicLong settled = new AtomicLong();
        AtomicLong admitted = new AtomicLong();
        AtomicLong rejected = new AtomicLong();
        AtomicLong lowered = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            int n = i;
            futures.add(pool.submit(() -> {
                start.await();
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                for (int j = 0; j < perThread; j++) {
                    long in = rnd.nextLong(10, 400);
                    long out = rnd.nextLong(10, 400);
                    Ticket t = f.engine.reserve(new BudgetRequest(keys.get(n % 2), null, null, "m", in, out));
                    if (!t.decision().admitted()) {
                        rejected.incrementAndGet();
                        continue;
                    }
                    admitted.incrementAndGet();
                    // the gateway holds a degraded request to its clamp, never above what is reserved
                    RouteDirective dir = t.decision().directive();
                    long sent = dir != null && dir.maxOutputTokens() >= 0 ? dir.maxOutputTokens() : out;
                    assertThat(sent).isLessThanOrEqualTo(t.reservedOutput());
                    if (t.reservedOutput() < out) {
                        lowered.incrementAndGet();
                    }
                    int mode = rnd.nextInt(10);
                    if (mode == 0) {
                        f.engine.release(t);
                    } else {
                        // actual output never beyond the ceiling; input may exceed the estimate by `overrun`
                        long actualIn = in + (overrun > 0 ? rnd.nextLong(overrun + 1) : 0);
                        long actualOut = rnd.nextLong(sent + 1);
                        // settle from two threads at once: exactly one may count
                        TokenUsage u = TokenUsage.of(actualIn, actualOut);
                        if (f.engine.settle(t, u) == dev.tokenbudget.store.SettleResult.Status.SETTLED) {
                            settled.addAndGet(u.totalTokens());
                        }
                        if (f.engine.settle(t, u) == dev.tokenbudget.store.SettleResult.Status.SETTLED) {
                            settled.addAndGet(u.totalTokens());
                        }
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> fu : futures) {
            fu.get(5, TimeUnit.MINUTES);
        }
        pool.shutdown();
        return new Totals(admitted.get(), settled.get(), rejected.get(), lowered.get());
    }

    @Test
    void exactEstimatesNeverOverspendAndConserveEveryToken() throws Exception {
        EngineFixture f = new EngineFixture(YAML);
        Totals t = hammer(f, 400, 0);
        assertThat(t.rejected()).as("the budget must actually run out under this load").isPositive();
        long usedOrg = f.usedTotal("org");
        assertThat(usedOrg).isLessThanOrEqualTo(200_000);
        assertThat(f.usedTotal("team-a")).isLessThanOrEqualTo(150_000);
        assertThat(f.usedTotal("team-b")).isLessThanOrEqualTo(150_000);
        // conservation: what the store counts is exactly the sum of settlements
        assertThat(usedOrg).isEqualTo(t.settled());
        assertThat(f.usedTotal("team-a") + f.usedTotal("team-b")).isEqualTo(t.settled());
        assertThat(f.reservedTotal("org")).isZero();
    }

    @Test
    void degradedRequestsReservingOnlyTheirClampedCeilingNeverOverspend() throws Exception {
        EngineFixture f = new EngineFixture(DEGRADING);
        Totals t = hammer(f, 400, 0);
        assertThat(t.rejected()).isPositive();
        assertThat(t.lowered()).as("degraded requests reserved less than they asked for").isPositive();
        assertThat(f.usedTotal("org")).isLessThanOrEqualTo(200_000).isEqualTo(t.settled());
        assertThat(f.usedTotal("team-a")).isLessThanOrEqualTo(150_000);
        assertThat(f.usedTotal("team-b")).isLessThanOrEqualTo(150_000);
        assertThat(f.reservedTotal("org")).isZero();
    }

    @Test
    void underestimatedInputOverspendsAtMostTheStatedBound() throws Exception {
        EngineFixture f = new EngineFixture(YAML);
        long overrun = 50;
        Totals t = hammer(f, 400, overrun);
        assertThat(t.rejected()).isPositive();
        // bound: cap + (requests in flight at once) x (largest input underestimate) <= cap + THREADS x overrun
        assertThat(f.usedTotal("org")).isLessThanOrEqualTo(200_000 + THREADS * overrun);
        assertThat(f.usedTotal("org")).isEqualTo(t.settled());
    }
}
