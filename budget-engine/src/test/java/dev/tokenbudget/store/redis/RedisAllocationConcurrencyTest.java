package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.engine.AllocationStatus;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.HoldRequest;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.store.AbstractBudgetStoreTest;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import static dev.tokenbudget.store.AbstractBudgetStoreTest.runConcurrently;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several engines, each with its own Lettuce client, share one allocating tree on Redis and hammer
 * it before and after the mid-month rebalance, which they all try to run at once: the rebalance is
 * claimed once, every pool balances, no cap is passed, and used is exactly what was settled.
 */
class RedisAllocationConcurrencyTest {

    private static final String[] TEAMS = {"support", "marketing", "internal", "experiments"};
    private static final long[] LIMITS = {40_000, 30_000, 20_000, 10_000};
    private static final int ENGINES = 3;
    private static final int THREADS_PER_ENGINE = 3;
    private static final int ROUNDS = 60;

    private final String prefix = TestRedis.uniquePrefix("allocmulti");
    private final ManualClock clock = new ManualClock(Instant.parse("2026-05-03T08:00:00Z"));
    private final List<BudgetEngine> engines = new ArrayList<>();
    private final List<BudgetEvent> events = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicLong> settled = new ConcurrentHashMap<>();

    @AfterEach
    void close() {
        engines.forEach(BudgetEngine::close);
        TestKeys.deleteByPrefix(TestRedis.uri(), prefix);
    }

    private String yaml() {
        StringBuilder b = new StringBuilder("""
                defaults: { zone: UTC }
                budgets:
                  - id: workspace
                    windows: [{ period: month, limits: { total: 100000 } }]
                    allocation:
                      oversubscription: reject
                      rebalance: { at: 50%, below: 50%, share: 50%, max: 30% }
                      holds: [{ id: marketing-floor, for: marketing, tokens: 5000 }]
                """);
        for (int i = 0; i < TEAMS.length; i++) {
            b.append("  - id: ").append(TEAMS[i]).append("\n    parent: workspace\n")
                    .append("    windows: [{ period: month, limits: { total: ").append(LIMITS[i]).append(" } }]\n");
            if (i == 0) {
                b.append("    overflow: true\n    overflow_cap: 30%\n");
            }
        }
        b.append("keys:\n");
        for (String t : TEAMS) {
            b.append("  - { name: ").append(t).append(", sha256: ").append(KeyHash.of("sk-" + t))
                    .append(", budget: ").append(t).append(" }\n");
        }
        return b.toString();
    }

    @Test
    void enginesShareOnePoolAndClaimTheRebalanceOnce() throws Exception {
        EngineConfig config = ConfigLoader.parse(yaml());
        for (int i = 0; i < ENGINES; i++) {
            BudgetEngine e = BudgetEngine.builder(config).clock(clock)
                    .store(RedisBudgetStore.open(TestRedis.uri(), Duration.ofSeconds(10), prefix)).build();
            e.subscribe(events::add);
            engines.add(e);
        }
        // first half of May: support runs hot, the others lightly
        hammer(new double[] {0.7, 0.1, 0.1, 0.1}, 400);
        engines.get(1).reservations().create(HoldRequest.forChild("workspace", "experiments", Limits.total(2_000))
                .id("exp-run").by("ops", "experiment run"));

        // mid-month: every engine asks for the rebalance at once while traffic goes on
        clock.setTo(Instant.parse("2026-05-16T12:00:00Z"));
        List<LedgerEntry> claimedMoves = new CopyOnWriteArrayList<>();
        runConcurrently(ENGINES, i -> claimedMoves.addAll(engines.get(i).rebalance()));
        hammer(new double[] {0.85, 0.05, 0.05, 0.05}, 900);

        List<LedgerEntry> ledger = engines.get(2).ledger().after(0, 1000, null);
        List<LedgerEntry> rebalances = ledger.stream()
                .filter(e -> e.change().kind() == LedgerChange.Kind.REBALANCE).toList();
        assertThat(rebalances).isNotEmpty();
        assertThat(rebalances).extracting(e -> e.change().budgetId()).doesNotHaveDuplicates();
        assertThat(claimedMoves).containsExactlyInAnyOrderElementsOf(rebalances);
        assertThat(ledger).filteredOn(e -> e.change().kind() == LedgerChange.Kind.RESERVATION_CREATED).hasSize(1);
        assertThat(events).filteredOn(e -> e instanceof BudgetEvent.AllocationChanged).hasSize(ledger.size());
        for (BudgetEngine e : engines) {
            assertThat(e.rebalance()).isEmpty();
        }

        AllocationStatus.Pool pool = engines.get(0).allocation("workspace").orElseThrow().pools().get(0);
        long contributions = rebalances.stream().mapToLong(e -> AbstractBudgetStoreTest.given(e).total()).sum();
        assertThat(pool.contributions().total()).isEqualTo(contributions);
        assertThat(pool.headroom().total()).isZero();
        assertThat(pool.used().total() + pool.remaining().total()).isEqualTo(contributions);
        assertThat(pool.remaining().total()).isNotNegative();
        long draws = 0;
        for (int i = 0; i < TEAMS.length; i++) {
            AllocationStatus.Child c = pool.children().get(i);
            assertThat(c.committed().total()).as("no reservation left on %s", TEAMS[i])
                    .isEqualTo(used(TEAMS[i]));
            long own = LIMITS[i] - c.given().total();
            long draw = i == 0 ? Math.max(0, c.committed().total() - own) : 0;
            assertThat(c.draw().total()).as("draw of %s", TEAMS[i]).isEqualTo(draw);
            assertThat(c.committed().total()).as("%s within its allocation and draw", TEAMS[i])
                    .isLessThanOrEqualTo(own + draw);
            draws += draw;
            assertThat(used(TEAMS[i])).as("used of %s", TEAMS[i]).isEqualTo(settled(TEAMS[i]));
        }
        assertThat(pool.used().total()).isEqualTo(draws).isLessThanOrEqualTo(LIMITS[0] * 30 / 100);
        assertThat(draws).as("support went on on pool tokens").isPositive();
        long total = settled.values().stream().mapToLong(AtomicLong::get).sum();
        assertThat(used("workspace")).isEqualTo(total).isLessThanOrEqualTo(100_000);
    }

    private long used(String budget) {
        return engines.get(0).status(budget).orElseThrow().windows().get(0).used().total();
    }

    private long settled(String team) {
        AtomicLong a = settled.get(team);
        return a == null ? 0 : a.get();
    }

    /** Every engine's threads reserve on teams drawn by {@code weights}, settling at most what they reserved. */
    private void hammer(double[] weights, int maxRequest) throws Exception {
        runConcurrently(ENGINES * THREADS_PER_ENGINE, t -> {
            BudgetEngine e = engines.get(t % ENGINES);
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            for (int r = 0; r < ROUNDS; r++) {
                double x = rnd.nextDouble();
                int team = 0;
                while (team < TEAMS.length - 1 && x >= weights[team]) {
                    x -= weights[team];
                    team++;
                }
                long in = rnd.nextLong(1, maxRequest);
                long out = rnd.nextLong(0, maxRequest / 4);
                Ticket ticket = e.reserve(new BudgetRequest(e.authenticate("sk-" + TEAMS[team]).orElseThrow(), null,
                        null, "m", in, out));
                if (!ticket.decision().admitted()) {
                    continue;
                }
                if (rnd.nextInt(5) == 0) {
                    e.release(ticket);
                    continue;
                }
                long ai = rnd.nextLong(0, in + 1);
                long ao = rnd.nextLong(0, out + 1);
                assertThat(e.settle(ticket, TokenUsage.of(ai, ao))).isEqualTo(SettleResult.Status.SETTLED);
                settled.computeIfAbsent(TEAMS[team], k -> new AtomicLong()).addAndGet(ai + ao);
            }
        });
    }
}
