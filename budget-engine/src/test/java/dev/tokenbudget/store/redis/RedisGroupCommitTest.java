package dev.tokenbudget.store.redis;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.testing.Poll;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Group commit on Redis (TreeBatcher, batch.lua) against a private {@code redis-server}, whose
 * {@code INFO commandstats} counts only this test's script calls. Batches are forced without
 * timing: {@code CLIENT PAUSE} holds the call in flight while the next commands queue behind it.
 */
class RedisGroupCommitTest {

    private RedisTestServer redis;
    private BudgetEngine engine;
    private final ConcurrentLinkedQueue<BudgetEvent> events = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void start() {
        redis = RedisTestServer.start();
    }

    @AfterEach
    void stop() {
        if (engine != null) {
            engine.close();
        }
        redis.close();
    }

    private static String config(String store, String timeout, String leaseTtl, String failMode) {
        return """
                version: 1
                lease_ttl: %s
                %s
                budgets:
                  - id: org
                    on_store_failure: %s
                    windows: [{period: month, limits: {total: 1000}}, {period: rolling, length: 7d, limits: {total: 5000}}]
                  - id: team
                    parent: org
                    windows: [{period: day, limits: {total: 950}}]
                keys:
                  - {name: k, sha256: %s, budget: team}
                """.formatted(leaseTtl, store.formatted(timeout), failMode, KeyHash.of("sk-k"));
    }

    private String redisStore() {
        return "store: {type: redis, redis: {uri: \"" + redis.uri() + "\", timeout: %s, key_prefix: tbtest-gc}}";
    }

    private BudgetEngine redisEngine(String timeout, String leaseTtl, String failMode) {
        BudgetEngine e = BudgetEngine.builder(ConfigLoader.parse(config(redisStore(), timeout, leaseTtl, failMode)))
                .build();
        e.subscribe(events::add);
        return e;
    }

    private static BudgetRequest request(BudgetEngine e, long in, long out) {
        return new BudgetRequest(e.authenticate("sk-k").orElseThrow(), null, null, "m", in, out);
    }

    /** Script calls so far (EVALSHA and EVAL), from the server's own count. */
    private long scriptCalls() throws IOException {
        long calls = 0;
        for (String line : redis.command("INFO", "commandstats").split("\\r?\\n")) {
            if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
                String c = line.substring(line.indexOf("calls=") + 6);
                calls += Long.parseLong(c.substring(0, c.indexOf(',')));
            }
        }
        return calls;
    }

    private long used(BudgetEngine e, String budget) {
        return e.status(budget).orElseThrow().windows().get(0).used().total();
    }

    @Test
    void sixteenThreadsOnOneTreeShareScriptCallsAndCountEveryToken() throws Exception {
        engine = redisEngine("5s", "60s", "closed");
        engine.reserve(request(engine, 1, 1)); // scripts loaded, tree created
        long before = scriptCalls();
        int threads = 16;
        int perThread = 40;
        AtomicLong settled = new AtomicLong();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            done.add(pool.submit(() -> {
                go.await();
                for (int i = 0; i < perThread; i++) {
                    Ticket ticket = engine.reserve(request(engine, 1, 0));
                    assertThat(ticket.decision().reason()).isEqualTo(Decision.Reason.WITHIN_BUDGET);
                    assertThat(engine.settle(ticket, new TokenUsage(1, 0, 0, 0)))
                            .isEqualTo(SettleResult.Status.SETTLED);
                    settled.incrementAndGet();
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : done) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        long calls = scriptCalls() - before;
        long commands = 2L * threads * perThread;
        assertThat(calls).as("script calls for %d reserves and settles", commands).isLessThan(commands);
        // the first reservation's lease (1 + 1) is still open: reserved, not used
        assertThat(used(engine, "org")).isEqualTo(settled.get());
        assertThat(engine.status("org").orElseThrow().windows().get(0).reserved()).isEqualTo(TokenCounts.of(1, 1));
    }

    /**
     * One batch of reserves admitted and refused, settles, a release and a settle of an unknown
     * lease, in that order: each command gets the reply it gets on the in-memory store, the
     * commands run one by one in the same order, and both stores end in the same state.
     */
    @Test
    void eachCommandOfABatchGetsItsOwnReplyAsInMemory() throws Exception {
        engine = redisEngine("10s", "60s", "closed");
        BudgetEngine memory = BudgetEngine.builder(ConfigLoader.parse(config("", "", "60s", "closed")))
                .store(new InMemoryBudgetStore()).build();
        List<Ticket> redisBefore = before(engine);
        List<Ticket> memoryBefore = before(memory);
        long calls = scriptCalls();

        // the first call is held in flight by the pause; the eight after it queue behind it
        assertThat(redis.command("CLIENT", "PAUSE", "1500", "ALL")).isEqualTo("+OK");
        List<CompletionStage<?>> redisReplies = script(engine, redisBefore);
        List<CompletionStage<?>> memoryReplies = script(memory, memoryBefore);

        List<Object> gotRedis = new ArrayList<>();
        for (CompletionStage<?> o : redisReplies) {
            gotRedis.add(o.toCompletableFuture().get(30, TimeUnit.SECONDS));
        }
        List<Object> gotMemory = new ArrayList<>();
        for (CompletionStage<?> o : memoryReplies) {
            gotMemory.add(o.toCompletableFuture().get());
        }
        assertThat(describe(gotRedis)).isEqualTo(describe(gotMemory)).containsExactly(
                "SETTLED", "WITHIN_BUDGET", "WITHIN_BUDGET", "BUDGET_EXHAUSTED", "SETTLED", "RELEASED",
                "WITHIN_BUDGET", "UNKNOWN_LEASE", "BUDGET_EXHAUSTED");
        assertThat(scriptCalls() - calls).as("one call in flight, one batch of the eight queued behind it")
                .isEqualTo(2);
        for (String b : List.of("org", "team")) {
            assertThat(engine.status(b).orElseThrow().windows().get(0).used())
                    .isEqualTo(memory.status(b).orElseThrow().windows().get(0).used());
            assertThat(engine.status(b).orElseThrow().windows().get(0).reserved())
                    .isEqualTo(memory.status(b).orElseThrow().windows().get(0).reserved());
        }
        assertThat(engine.status("team").orElseThrow().windows().get(0).used()).isEqualTo(TokenCounts.of(11, 10));
        memory.close();
    }

    /** Leases open before the batch: warm (1, 0), earlier (50, 50), spare (30, 30). */
    private static List<Ticket> before(BudgetEngine e) {
        return List.of(e.reserve(request(e, 1, 0)), e.reserve(request(e, 50, 50)), e.reserve(request(e, 30, 30)));
    }

    /** Nine commands issued without waiting; team's day cap of 950 decides (comments: used + reserved). */
    private static List<CompletionStage<?>> script(BudgetEngine e, List<Ticket> open) {
        List<CompletionStage<?>> out = new ArrayList<>();
        out.add(e.settleAsync(open.get(0), new TokenUsage(1, 0, 0, 0)));       // 1 + 160
        out.add(e.reserveAsync(request(e, 200, 200)));                         // 561
        out.add(e.reserveAsync(request(e, 150, 150)));                         // 861
        out.add(e.reserveAsync(request(e, 100, 100)));                         // 1061 > 950: refused
        out.add(e.settleAsync(open.get(1), new TokenUsage(10, 10, 0, 0)));     // 21 + 760
        out.add(e.releaseAsync(open.get(2)));                                  // 21 + 700
        out.add(e.reserveAsync(request(e, 100, 100)));                         // 921
        out.add(e.store().settleAsync(new SettleCommand("org", "no-such-lease",
                Instant.now(), 5, 5, false)).thenApply(SettleResult::status));
        out.add(e.reserveAsync(request(e, 20, 20)));                           // 961 > 950: refused
        return out;
    }

    private static List<String> describe(List<Object> replies) {
        List<String> out = new ArrayList<>();
        for (Object o : replies) {
            out.add(o instanceof Ticket t ? t.decision().reason().name() : o.toString());
        }
        return out;
    }

    /**
     * A batch whose call times out (Redis paused past the timeout): the command in flight and every
     * command queued behind it get the failure, the fail mode applies to each, and nothing is
     * counted twice: the call in flight runs late once, its lease is charged at its reservation on
     * expiry, the settles never sent leave their leases to expire at their reservation.
     */
    @Test
    void aBatchThatTimesOutAnswersEveryWaiterAndCountsNothingTwice() throws Exception {
        engine = redisEngine("1s", "1s", "closed");
        List<Ticket> open = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            open.add(engine.reserve(request(engine, 10, 10)));
        }
        assertThat(redis.command("CLIENT", "PAUSE", "3000", "ALL")).isEqualTo("+OK");
        CompletableFuture<Ticket> inFlight = engine.reserveAsync(request(engine, 7, 7)).toCompletableFuture();
        List<CompletableFuture<SettleResult.Status>> settles = new ArrayList<>();
        for (Ticket t : open) {
            settles.add(engine.settleAsync(t, new TokenUsage(1, 1, 0, 0)).toCompletableFuture());
        }
        List<CompletableFuture<Ticket>> queued = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            queued.add(engine.reserveAsync(request(engine, 3, 3)).toCompletableFuture());
        }
        assertThat(inFlight.get(30, TimeUnit.SECONDS).decision().reason())
                .isEqualTo(Decision.Reason.STORE_UNAVAILABLE);
        for (CompletableFuture<Ticket> q : queued) {
            assertThat(q.get(30, TimeUnit.SECONDS).decision().reason()).isEqualTo(Decision.Reason.STORE_UNAVAILABLE);
        }
        for (CompletableFuture<SettleResult.Status> s : settles) {
            // queued to be sent again; their leases (1 s) run out during the pause, so the retries give up
            assertThat(s.get(30, TimeUnit.SECONDS)).isEqualTo(SettleResult.Status.PENDING);
        }
        assertThat(events).filteredOn(e -> e instanceof BudgetEvent.StoreFailure sf && sf.operation().equals("settle"))
                .hasSize(5);

        // the paused call runs once the pause ends; then every open lease expires at its reservation
        assertThat(redis.command("PING")).isEqualTo("+PONG");
        long expected = 5 * 20 + 14;
        Poll.until(Duration.ofSeconds(10), () -> {
            try {
                engine.expireLeases();
            } catch (RuntimeException e) {
                // a sweep timing out on a busy machine: the next one goes on
            }
            return used(engine, "org") >= expected;
        });
        assertThat(used(engine, "org")).as("5 open leases and the late reservation, each charged once")
                .isEqualTo(expected);
        assertThat(engine.status("org").orElseThrow().windows().get(0).reserved()).isEqualTo(TokenCounts.ZERO);
        // the open leases ran out during the pause, so the late call itself charged them in passing
        // (its reply, which reported them, was lost); the late reservation expires afterwards
        List<BudgetEvent.LeaseExpired> expired = events.stream().filter(e -> e instanceof BudgetEvent.LeaseExpired)
                .map(e -> (BudgetEvent.LeaseExpired) e).toList();
        assertThat(expired).extracting(BudgetEvent.LeaseExpired::leaseId).doesNotHaveDuplicates();
        assertThat(expired).extracting(e -> e.charged().total()).contains(14L);
    }

    @Test
    void reserveAsyncReturnsWhileRedisIsPausedAndCompletesAfter() throws Exception {
        engine = redisEngine("10s", "60s", "closed");
        engine.reserve(request(engine, 1, 1));
        assertThat(redis.command("CLIENT", "PAUSE", "3000", "ALL")).isEqualTo("+OK");
        CompletableFuture<Ticket> t = engine.reserveAsync(request(engine, 5, 5)).toCompletableFuture();
        assertThat(t).as("no thread waits for Redis").isNotDone();
        Ticket ticket = t.get(30, TimeUnit.SECONDS);
        assertThat(ticket.decision().reason()).isEqualTo(Decision.Reason.WITHIN_BUDGET);
        assertThat(engine.settleAsync(ticket, new TokenUsage(4, 4, 0, 0)).toCompletableFuture()
                .get(30, TimeUnit.SECONDS)).isEqualTo(SettleResult.Status.SETTLED);
        assertThat(used(engine, "org")).isEqualTo(8);
    }

    @Test
    void onTheInMemoryStoreTheAsyncCallsCompleteBeforeTheyReturn() {
        BudgetEngine memory = BudgetEngine.builder(ConfigLoader.parse(config("", "", "60s", "open")))
                .store(new InMemoryBudgetStore()).build();
        CompletableFuture<Ticket> t = memory.reserveAsync(request(memory, 5, 5)).toCompletableFuture();
        assertThat(t).isDone();
        assertThat(memory.settleAsync(t.join(), new TokenUsage(2, 3, 0, 0)).toCompletableFuture())
                .isCompletedWithValue(SettleResult.Status.SETTLED);
        assertThat(used(memory, "org")).isEqualTo(5);
        memory.close();
    }
}
