package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.FailMode;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.StoreUnavailableException;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import dev.tokenbudget.testing.Poll;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Redis the test started itself is killed (SIGKILL, as a crash) in the middle of a run and
 * started again on its append-only file: the fail-open budget admits uncounted, the fail-closed
 * one refuses, both with events; afterwards nothing is counted twice, settles that failed during
 * the outage are sent again once Redis is back (or, when their lease ran out first, charged at
 * their reservation), and traffic that ran straight through the crash breaks no invariant.
 */
class RedisOutageTest {

    private RedisTestServer redis;
    private BudgetEngine engine;
    private final ConcurrentLinkedQueue<BudgetEvent> events = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void start() {
        redis = RedisTestServer.start("--appendonly", "yes", "--appendfsync", "always");
        engine = BudgetEngine.builder(ConfigLoader.parse(config(redis.uri()))).build();
        engine.subscribe(events::add);
    }

    @AfterEach
    void stop() {
        if (engine != null) {
            engine.close();
        }
        redis.close();
    }

    static String config(String uri) {
        return config(uri, "2s", "2s");
    }

    static String config(String uri, String leaseTtl, String timeout) {
        StringBuilder b = new StringBuilder("""
                version: 1
                lease_ttl: %s
                store:
                  type: redis
                  redis: {uri: "%s", timeout: %s, key_prefix: tbtest-outage}
                budgets:
                """.formatted(leaseTtl, uri, timeout));
        StringBuilder keys = new StringBuilder("keys:\n");
        for (String name : List.of("open", "closed", "chaos")) {
            b.append("""
                      - id: %s-org
                        on_store_failure: %s
                        windows: [{period: month, limits: {total: 10M}}]
                        thresholds: [{at: 100, policy: hard_stop}]
                    """.formatted(name, name.equals("closed") ? "closed" : "open"));
            keys.append("  - {name: %s, sha256: %s, budget: %s-org}\n".formatted(name, KeyHash.of("sk-" + name),
                    name));
        }
        return b.append(keys).toString();
    }

    /** What one tree went through, tallied by the test. */
    private static final class Tally {
        final AtomicLong settled = new AtomicLong();
        final List<Ticket> kept = new ArrayList<>();
    }

    @Test
    void failOpenAndFailClosedBudgetsRideOutACrashAndRecoverWithoutDoubleCounting() throws Exception {
        Map<String, Tally> tallies = Map.of("open", new Tally(), "closed", new Tally());
        Chaos chaos = new Chaos(engine, key("chaos"));
        chaos.start();

        // A: Redis up; half of the leases are left open across the outage
        for (String name : tallies.keySet()) {
            Tally t = tallies.get(name);
            for (int i = 0; i < 20; i++) {
                Ticket ticket = engine.reserve(request(name, 100 + i, 50));
                assertThat(ticket.decision().reason()).isEqualTo(Decision.Reason.WITHIN_BUDGET);
                if (i % 2 == 0) {
                    assertThat(engine.settle(ticket, TokenUsage.of(90, 40))).isEqualTo(SettleResult.Status.SETTLED);
                    t.settled.addAndGet(130);
                } else {
                    t.kept.add(ticket);
                }
            }
        }

        redis.kill();

        // B: Redis down
        for (int i = 0; i < 20; i++) {
            Ticket open = engine.reserve(request("open", 10, 10));
            assertThat(open.decision().outcome()).isEqualTo(Decision.Outcome.ALLOW);
            assertThat(open.decision().reason()).isEqualTo(Decision.Reason.STORE_FAIL_OPEN);
            assertThat(open.accounted()).isFalse();
            Ticket closed = engine.reserve(request("closed", 10, 10));
            assertThat(closed.decision().reason()).isEqualTo(Decision.Reason.STORE_UNAVAILABLE);
            assertThat(closed.decision().httpStatus()).isEqualTo(503);
        }
        for (Tally t : tallies.values()) {
            for (Ticket k : t.kept) {
                assertThat(engine.settle(k, TokenUsage.of(1, 1))).isEqualTo(SettleResult.Status.PENDING);
            }
        }
        assertThat(storeFailures("reserve")).extracting(BudgetEvent.StoreFailure::budgetId,
                BudgetEvent.StoreFailure::applied).contains(
                org.assertj.core.groups.Tuple.tuple("open-org", FailMode.OPEN),
                org.assertj.core.groups.Tuple.tuple("closed-org", FailMode.CLOSED));
        assertThat(storeFailures("settle")).isNotEmpty();

        redis.restart();

        // C: Redis back (same data); wait for the client to reconnect, then run normally
        awaitCounted("open");
        for (String name : tallies.keySet()) {
            for (int i = 0; i < 20; i++) {
                Ticket ticket = engine.reserve(request(name, 20, 20));
                assertThat(ticket.decision().reason()).isEqualTo(Decision.Reason.WITHIN_BUDGET);
                assertThat(engine.settle(ticket, TokenUsage.of(15, 5))).isEqualTo(SettleResult.Status.SETTLED);
                tallies.get(name).settled.addAndGet(20);
            }
        }
        Set<String> keptIds = new HashSet<>();
        tallies.values().forEach(t -> t.kept.forEach(k -> keptIds.add(k.leaseId())));
        Poll.await("the settles sent again", Duration.ofSeconds(60), () -> engine.pendingSettles() == 0);
        awaitNothingReserved(tallies.keySet());
        chaos.stop();

        // each lease left open by the outage is applied exactly once: settled on retry at the
        // usage given (1 + 1), or, when its lease ran out before Redis came back, expired at its reservation
        List<String> expired = events.stream().filter(e -> e instanceof BudgetEvent.LeaseExpired)
                .map(e -> ((BudgetEvent.LeaseExpired) e).leaseId()).filter(keptIds::contains).toList();
        assertThat(expired).doesNotHaveDuplicates();
        for (String name : tallies.keySet()) {
            Tally t = tallies.get(name);
            long expected = t.settled.get();
            for (int i = 0; i < t.kept.size(); i++) {
                Ticket k = t.kept.get(i);
                expected += expired.contains(k.leaseId()) ? k.reservedInput() + k.reservedOutput() : 2;
            }
            TokenCounts used = engine.status(name + "-org").orElseThrow().windows().get(0).used();
            assertThat(used.total()).as("%s: settled before and after, plus each open lease once", name)
                    .isEqualTo(expected);
        }
        assertThat(storeFailures("scripts-reloaded")).as("Redis came back without the scripts").isNotEmpty();
        assertThat(storeFailures("state-lost")).as("the append-only file kept the state").isEmpty();
        chaos.assertInvariants(engine, expiredCharges("chaos-org"));
    }

    @Test
    void aRedisSlowerThanTheTimeoutCountsAsDownAndItsLateReservationsAreSettledOrReleased() throws Exception {
        pausableEngine();
        assertThat(redis.command("CLIENT", "PAUSE", "2500", "ALL")).isEqualTo("+OK");
        Ticket open = engine.reserve(request("open", 11, 11));
        Ticket closed = engine.reserve(request("closed", 13, 13));
        assertThat(open.decision().reason()).isEqualTo(Decision.Reason.STORE_FAIL_OPEN);
        assertThat(closed.decision().reason()).isEqualTo(Decision.Reason.STORE_UNAVAILABLE);
        assertThat(storeFailures("reserve")).allSatisfy(f -> assertThat(f.message()).containsIgnoringCase("timed out"));

        assertThat(open.holdsLease()).as("the store may have made the reservation after all").isTrue();
        // sent while paused it is PENDING; after the pause Redis ran the late reservation first
        assertThat(engine.settle(open, TokenUsage.of(5, 3))).isIn(SettleResult.Status.PENDING,
                SettleResult.Status.SETTLED);

        // a PING from another client waits out the pause; Redis then runs the two reservations the
        // engine gave up on, and then what the engine sent again: the refused one's release, the
        // admitted one's settle at what the provider reported. Nothing is left to expire.
        assertThat(redis.command("PING")).isEqualTo("+PONG");
        Poll.await("the release and settle sent again", Duration.ofSeconds(30), () -> engine.pendingSettles() == 0);
        assertThat(engine.status("open-org").orElseThrow().windows().get(0).used()).isEqualTo(TokenCounts.of(5, 3));
        assertThat(engine.status("closed-org").orElseThrow().windows().get(0).used()).isEqualTo(TokenCounts.ZERO);
        for (String name : List.of("open-org", "closed-org")) {
            assertThat(engine.status(name).orElseThrow().windows().get(0).reserved()).as(name)
                    .isEqualTo(TokenCounts.ZERO);
        }
        assertThat(events).noneMatch(e -> e instanceof BudgetEvent.LeaseExpired);
    }

    @Test
    void aSettleThatTimedOutIsSentAgainAndChargesWhatTheProviderReported() throws Exception {
        pausableEngine();
        Ticket t = engine.reserve(request("open", 100, 100));
        assertThat(redis.command("CLIENT", "PAUSE", "2500", "ALL")).isEqualTo("+OK");
        assertThat(engine.settle(t, TokenUsage.of(60, 30))).isEqualTo(SettleResult.Status.PENDING);
        assertThat(redis.command("PING")).isEqualTo("+PONG");
        Poll.await("the settle sent again", Duration.ofSeconds(30), () -> engine.pendingSettles() == 0);
        TokenCounts used = engine.status("open-org").orElseThrow().windows().get(0).used();
        // whichever of the two sends Redis ran, the lease was applied once, at the actual usage
        assertThat(used).isEqualTo(TokenCounts.of(60, 30));
        assertThat(engine.status("open-org").orElseThrow().windows().get(0).reserved()).isEqualTo(TokenCounts.ZERO);
        assertThat(events).noneMatch(e -> e instanceof BudgetEvent.LeaseExpired);
    }

    /** An engine whose calls time out (1 s) well within a pause (2.5 s), and whose leases outlast it (6 s). */
    private void pausableEngine() {
        engine.close();
        engine = BudgetEngine.builder(ConfigLoader.parse(config(redis.uri(), "6s", "1s"))).build();
        engine.subscribe(events::add);
    }

    private void awaitNothingReserved(Set<String> names) throws InterruptedException {
        for (int i = 0; i < 2_000; i++) {
            sweep();
            boolean none = names.stream().allMatch(n -> engine.status(n + "-org").orElseThrow().windows().get(0)
                    .reserved().total() == 0);
            if (none) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("leases left open by the outage were neither settled nor expired");
    }

    /** A sweep that tolerates a call timing out on this busy machine (the next one goes on). */
    private void sweep() {
        try {
            engine.expireLeases();
        } catch (StoreUnavailableException e) {
            // polled again below
        }
    }

    private VirtualKey key(String name) {
        return engine.authenticate("sk-" + name).orElseThrow();
    }

    private BudgetRequest request(String name, long in, long out) {
        return new BudgetRequest(key(name), null, null, "m", in, out);
    }

    private List<BudgetEvent.StoreFailure> storeFailures(String operation) {
        return events.stream().filter(e -> e instanceof BudgetEvent.StoreFailure)
                .map(e -> (BudgetEvent.StoreFailure) e).filter(e -> e.operation().equals(operation)).toList();
    }

    private Map<String, Long> expiredCharges(String budget) {
        Map<String, Long> out = new ConcurrentHashMap<>();
        for (BudgetEvent e : events) {
            if (e instanceof BudgetEvent.LeaseExpired le && le.budgetId().equals(budget)) {
                out.merge(le.leaseId(), le.charged().total(), Long::sum);
            }
        }
        return out;
    }

    private void awaitCounted(String name) throws InterruptedException {
        for (int i = 0; i < 1_000; i++) {
            Ticket t = engine.reserve(request(name, 1, 1));
            if (t.decision().reason() == Decision.Reason.WITHIN_BUDGET) {
                engine.release(t);
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the engine did not recover after Redis restarted");
    }

    /**
     * Traffic on its own tree that runs straight through the crash: whatever the timing, no
     * exception escapes, and used lies between what certainly was counted and what may have been.
     */
    private static final class Chaos {
        private final BudgetEngine engine;
        private final VirtualKey key;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final AtomicLong confirmed = new AtomicLong();
        private final AtomicLong uncertain = new AtomicLong();
        private final Set<String> settledIds = ConcurrentHashMap.newKeySet();
        private final Thread thread = new Thread(this::loop, "chaos");

        Chaos(BudgetEngine engine, VirtualKey key) {
            this.engine = engine;
            this.key = key;
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        private void loop() {
            try {
                while (running.get()) {
                    Ticket t = engine.reserve(new BudgetRequest(key, null, null, "m", 7, 3));
                    if (!t.accounted()) {
                        // uncounted (fail open), yet Redis may have run the reserve before the reply was lost
                        uncertain.addAndGet(10);
                        Thread.sleep(1); // throttle: with Redis down, each call fails at once
                        continue;
                    }
                    if (engine.settle(t, TokenUsage.of(5, 2)) == SettleResult.Status.SETTLED) {
                        confirmed.addAndGet(7);
                        settledIds.add(t.leaseId());
                    } else {
                        uncertain.addAndGet(10);
                    }
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        }

        void assertInvariants(BudgetEngine engine, Map<String, Long> expired) {
            assertThat(failure.get()).as("an exception escaped the engine").isNull();
            assertThat(expired.keySet()).as("a lease both settled and expired").doesNotContainAnyElementsOf(settledIds);
            long charged = expired.values().stream().mapToLong(Long::longValue).sum();
            long used = engine.status("chaos-org").orElseThrow().windows().get(0).used().total();
            assertThat(used).isGreaterThanOrEqualTo(confirmed.get() + charged)
                    .isLessThanOrEqualTo(confirmed.get() + uncertain.get());
        }
    }
}
