package dev.tokenbudget.store.redis;

import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.StoreUnavailableException;
import dev.tokenbudget.testing.Poll;
import dev.tokenbudget.usage.TokenUsage;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reserve/settle traffic through one engine while a Redis master is killed and replaced, and the
 * reconciliation of every request against the new master's state afterwards.
 *
 * <p>Two teams of one organisation {@code acme} (one budget tree, so one Redis Cluster slot):
 * {@code open-org} (fail-open) and {@code closed-org} (fail-closed), each key with per-user
 * budgets; every request names a user of its own, so that its user window on the new
 * master holds exactly what became of it: its settled usage, its reservation (the lease expired
 * and was charged), or nothing. Settled usage is always below the reservation and above zero, so
 * the three cannot be confused.
 */
final class FailoverLoad {

    /** What the new master holds for one request. */
    enum Fate {
        /** Its settled usage. */
        SETTLED,
        /** Its reservation: the lease was charged at expiry (the settle failed, or was lost). */
        CHARGED_AT_RESERVATION,
        /** Nothing: never reserved there (fail mode applied, or the reservation was lost). */
        NOTHING
    }

    /** One request of the load, as the engine answered it. */
    record Outcome(String key, String user, Decision.Reason reason, int httpStatus, boolean accounted,
                   long reserved, long actual, SettleResult.Status settle, long reservedAt, long settledAt) {

        boolean acknowledgedSettle() {
            return settle == SettleResult.Status.SETTLED;
        }
    }

    private final BudgetEngine engine;
    private final int workers;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicInteger seq = new AtomicInteger();
    private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();

    FailoverLoad(BudgetEngine engine, int workers) {
        this.engine = engine;
        this.workers = workers;
    }

    /** The tree all requests are charged to (its id is the Redis hash tag of every key). */
    static final String TREE = "acme";

    /** The engine config: the two teams on {@code uri}, lease 4 s, a 2 s command timeout. */
    static String config(String uri, String prefix) {
        StringBuilder b = new StringBuilder("""
                version: 1
                lease_ttl: 4s
                store:
                  type: redis
                  redis: {uri: "%s", timeout: 2s, key_prefix: %s}
                budgets:
                  - id: acme
                    on_store_failure: open
                    windows: [{period: month, limits: {total: 1G}}]
                """.formatted(uri, prefix));
        StringBuilder keys = new StringBuilder("keys:\n");
        for (String name : List.of("open", "closed")) {
            b.append("""
                      - id: %s-org
                        parent: acme
                        on_store_failure: %s
                        windows: [{period: month, limits: {total: 1G}}]
                    """.formatted(name, name));
            keys.append("  - {name: %s, sha256: %s, budget: %s-org, user_windows: [{period: month, limits: {total: 1M}}]}\n"
                    .formatted(name, KeyHash.of("sk-" + name), name));
        }
        return b.append(keys).toString();
    }

    void start() {
        for (int i = 0; i < workers; i++) {
            String key = i % 2 == 0 ? "open" : "closed";
            Thread t = new Thread(() -> run(key), "failover-load-" + i);
            threads.add(t);
            t.start();
        }
    }

    void stop() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(60_000);
            assertThat(t.isAlive()).as("load thread %s stopped", t.getName()).isFalse();
        }
    }

    /** Requests counted (reserved in Redis) whose reservation was answered after {@code nanos}. */
    long countedSince(long nanos) {
        return outcomes.stream().filter(o -> o.accounted() && o.reservedAt() - nanos > 0).count();
    }

    private void run(String key) {
        try {
            VirtualKey vk = engine.authenticate("sk-" + key).orElseThrow();
            while (running.get()) {
                int n = seq.incrementAndGet();
                long in = 10 + n % 7;
                Ticket t = engine.reserve(new BudgetRequest(vk, null, "u" + n, "m", in, 40));
                long reservedAt = System.nanoTime();
                Decision d = t.decision();
                long reserved = t.reservedInput() + t.reservedOutput();
                if (!t.accounted()) {
                    outcomes.add(new Outcome(key, "u" + n, d.reason(), d.httpStatus(), false, in + 40, 0, null,
                            reservedAt, 0));
                    Thread.sleep(2); // without a master every call fails at once: do not spin
                    continue;
                }
                long actualOut = 1 + n % 30; // below the reservation's 40, above zero
                SettleResult.Status s = engine.settle(t, TokenUsage.of(in, actualOut));
                outcomes.add(new Outcome(key, "u" + n, d.reason(), d.httpStatus(), true, reserved, in + actualOut, s,
                        reservedAt, System.nanoTime()));
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    /**
     * Waits until nothing is reserved any more (leases left by the failover expire and are charged
     * by sweeps), then reads every request's user window through {@code redis}, connected to
     * the new master(s).
     *
     * @param killStarted {@link System#nanoTime()} just before the kill
     * @param killed      just after the killed process was gone
     */
    Report reconcile(RedisClusterCommands<String, String> redis, String prefix,
                     Collection<BudgetEvent> events, long killStarted, long killed) {
        Poll.await("every lease to be settled or charged on expiry",
                Duration.ofSeconds(30), Duration.ofMillis(25), () -> {
            try {
                engine.expireLeases();
                return reserved("open") == 0 && reserved("closed") == 0;
            } catch (StoreUnavailableException e) {
                return false;
            }
        });
        Map<String, Long> expiredPerUser = new HashMap<>();
        Map<String, Integer> expiriesPerLease = new HashMap<>();
        for (BudgetEvent e : events) {
            if (e instanceof BudgetEvent.LeaseExpired le) {
                expiriesPerLease.merge(le.leaseId(), 1, Integer::sum);
                le.budgetIds().stream().filter(b -> b.startsWith("user:"))
                        .forEach(b -> expiredPerUser.put(b, le.charged().total()));
            }
        }
        Map<String, String> windows = new HashMap<>();
        for (String key : List.of("open", "closed")) {
            windows.put(key, engine.status(key + "-org").orElseThrow().windows().get(0).window());
        }
        Map<Outcome, Fate> fates = new HashMap<>();
        Map<Outcome, String> inconsistent = new HashMap<>();
        for (Outcome o : outcomes) {
            String budget = VirtualKey.userBudgetId(o.key(), o.user());
            String window = windows.get(o.key());
            String hashKey = prefix + ":{" + TREE + "}:w:" + budget + "/" + window;
            String t0 = redis.hget(hashKey, "t0");
            String rt = redis.hget(hashKey, "rt");
            long used = t0 == null ? 0 : Long.parseLong(t0);
            long held = rt == null ? 0 : Long.parseLong(rt);
            Fate f = used == 0 ? Fate.NOTHING : used == o.actual() && o.accounted() ? Fate.SETTLED
                    : used == o.reserved() ? Fate.CHARGED_AT_RESERVATION : null;
            if (f == null || held != 0 || (expiredPerUser.containsKey(budget) && f != Fate.CHARGED_AT_RESERVATION)) {
                inconsistent.put(o, "used " + used + ", reserved " + held + ", expiry event "
                        + expiredPerUser.get(budget));
            } else {
                fates.put(o, f);
            }
        }
        return new Report(List.copyOf(outcomes), fates, inconsistent, expiriesPerLease, failure.get(), killStarted,
                killed);
    }

    private long reserved(String key) {
        return engine.status(key + "-org").orElseThrow().windows().get(0).reserved().total();
    }

    /** The reconciliation: each request's fate, and what must hold whatever the timing. */
    record Report(List<Outcome> outcomes, Map<Outcome, Fate> fates, Map<Outcome, String> inconsistent,
                  Map<String, Integer> expiriesPerLease, Throwable failure, long killStarted, long killed) {

        /** Acknowledged settlements the new master does not hold (lost by asynchronous replication). */
        List<Outcome> lostSettlements() {
            return outcomes.stream().filter(o -> o.acknowledgedSettle() && fates.get(o) != Fate.SETTLED).toList();
        }

        /** Requests the engine counted whose reservation the new master never had. */
        List<Outcome> lostReservations() {
            return outcomes.stream().filter(o -> o.accounted() && fates.get(o) == Fate.NOTHING).toList();
        }

        String summary() {
            Map<String, Map<Fate, Integer>> byFate = new java.util.TreeMap<>();
            fates.forEach((o, f) -> byFate.computeIfAbsent(!o.accounted() ? "uncounted"
                    : o.acknowledgedSettle() ? "settled" : "settle failed", k -> new EnumMap<>(Fate.class))
                    .merge(f, 1, Integer::sum));
            long before = outcomes.stream().filter(o -> o.reservedAt() - killStarted < 0).count();
            long failOpen = outcomes.stream().filter(o -> o.reason() == Decision.Reason.STORE_FAIL_OPEN).count();
            long failClosed = outcomes.stream().filter(o -> o.reason() == Decision.Reason.STORE_UNAVAILABLE).count();
            long unackedSettles = outcomes.stream().filter(o -> o.accounted() && !o.acknowledgedSettle()).count();
            List<Outcome> lost = lostSettlements();
            return outcomes.size() + " requests (" + before + " before the kill; " + failOpen
                    + " admitted uncounted, " + failClosed + " refused 503 while there was no master); what the new "
                    + "master holds, by what the engine answered: " + byFate + "; settles not acknowledged "
                    + unackedSettles
                    + "; acknowledged settlements lost " + lost.size() + " ("
                    + lost.stream().mapToLong(Outcome::actual).sum() + " tokens; of them charged at their reservation "
                    + lost.stream().filter(o -> fates.get(o) == Fate.CHARGED_AT_RESERVATION).count()
                    + "); counted reservations lost " + lostReservations().size();
        }

        void assertConsistent(BudgetEngine engine) {
            assertThat(failure).as("an exception escaped the engine").isNull();
            assertThat(inconsistent).as("requests in no documented state on the new master").isEmpty();
            for (Outcome o : outcomes) {
                if (!o.accounted()) {
                    // a fail mode applied: open admits uncounted, closed refuses 503
                    assertThat(o.reason()).isEqualTo(o.key().equals("open") ? Decision.Reason.STORE_FAIL_OPEN
                            : Decision.Reason.STORE_UNAVAILABLE);
                    if (o.key().equals("closed")) {
                        assertThat(o.httpStatus()).isEqualTo(503);
                    }
                    assertThat(fates.get(o)).as("an uncounted request can only be charged when its reserve ran late")
                            .isNotEqualTo(Fate.SETTLED);
                }
            }
            assertThat(outcomes).as("fail-open admitted uncounted while there was no master")
                    .anyMatch(o -> o.reason() == Decision.Reason.STORE_FAIL_OPEN);
            assertThat(outcomes).as("fail-closed refused while there was no master")
                    .anyMatch(o -> o.reason() == Decision.Reason.STORE_UNAVAILABLE);
            assertThat(expiriesPerLease.values()).as("a lease charged twice").allMatch(n -> n == 1);
            // what the new master acknowledged, it keeps; only the old master's last writes may be lost
            assertThat(lostSettlements()).as("settlements acknowledged after the old master was gone, then lost")
                    .allMatch(o -> o.settledAt() - killed < 0);
            assertThat(lostReservations()).as("reservations acknowledged after the old master was gone, then lost")
                    .allMatch(o -> o.reservedAt() - killed < 0);
            long total = 0;
            for (String key : List.of("open", "closed")) {
                BudgetStatus.WindowStatus w = engine.status(key + "-org").orElseThrow().windows().get(0);
                long sum = 0;
                for (Outcome o : outcomes) {
                    Fate f = fates.get(o);
                    if (o.key().equals(key) && f == Fate.SETTLED) {
                        sum += o.actual();
                    } else if (o.key().equals(key) && f == Fate.CHARGED_AT_RESERVATION) {
                        sum += o.reserved();
                    }
                }
                assertThat(w.used().total()).as("%s-org used = the sum of its requests' fates", key).isEqualTo(sum);
                assertThat(w.reserved().total()).isZero();
                total += sum;
            }
            assertThat(engine.status(TREE).orElseThrow().windows().get(0).used().total())
                    .as("the organisation's used = the sum over both teams").isEqualTo(total);
        }
    }
}
