package dev.tokenbudget.store.redis;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SCRIPT FLUSH and FLUSHALL on a private Redis while engines keep serving: each gives a
 * store-failure event and a clear log line, never an exception or a wrong decision.
 */
class RedisResetTest {

    private RedisTestServer redis;
    private BudgetEngine engine;
    private final ConcurrentLinkedQueue<BudgetEvent> events = new ConcurrentLinkedQueue<>();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private PrintStream originalErr;

    @BeforeEach
    void start() {
        redis = RedisTestServer.start();
        String yaml = """
                version: 1
                store:
                  type: redis
                  redis: {uri: "%s", timeout: 5s, key_prefix: tbtest-reset}
                budgets:
                  - id: org
                    windows: [{period: month, limits: {total: 100M}}]
                    thresholds: [{at: 100, policy: hard_stop}]
                keys:
                  - {name: k, sha256: %s, budget: org}
                """.formatted(redis.uri(), KeyHash.of("sk-k"));
        engine = BudgetEngine.builder(ConfigLoader.parse(yaml)).build();
        engine.subscribe(events::add);
        originalErr = System.err;
        // slf4j-simple writes to whatever System.err is at the time of logging
        System.setErr(new PrintStream(new Tee(originalErr, log), true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void stop() {
        System.setErr(originalErr);
        engine.close();
        redis.close();
    }

    @Test
    void scriptFlushAndFlushAllMidRunGiveAnEventAndALogLineAndNoCrash() throws Exception {
        VirtualKey key = engine.authenticate("sk-k").orElseThrow();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong served = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread t = new Thread(() -> {
                try {
                    while (running.get()) {
                        Ticket ticket = engine.reserve(new BudgetRequest(key, null, null, "m", 10, 10));
                        assertThat(ticket.decision().reason()).isEqualTo(Decision.Reason.WITHIN_BUDGET);
                        SettleResult.Status s = engine.settle(ticket, TokenUsage.of(5, 5));
                        // a FLUSHALL between reserve and settle leaves nothing to settle
                        assertThat(s).isIn(SettleResult.Status.SETTLED, SettleResult.Status.UNKNOWN_LEASE);
                        served.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t.start();
            workers.add(t);
        }
        awaitServed(served, 50);

        assertThat(redis.command("SCRIPT", "FLUSH")).isEqualTo("+OK");
        awaitEvent("scripts-reloaded");
        awaitServed(served, served.get() + 50);

        assertThat(redis.command("FLUSHALL")).isEqualTo("+OK");
        awaitEvent("state-lost");
        awaitServed(served, served.get() + 50);

        running.set(false);
        for (Thread t : workers) {
            t.join();
        }
        assertThat(failure.get()).as("an exception escaped, or a decision was wrong").isNull();
        String logged = log.toString(StandardCharsets.UTF_8);
        assertThat(logged).contains("Redis had lost the tokenbudget script")
                .contains("ERROR dev.tokenbudget.store.redis.RedisBudgetStore - Redis lost the state of budget tree 'org'");
        assertThat(events).filteredOn(e -> e instanceof BudgetEvent.StoreFailure f
                && f.operation().equals("state-lost")).hasSize(1)
                .allSatisfy(e -> assertThat(((BudgetEvent.StoreFailure) e).message()).contains("FLUSHALL"));
        // after the reset the tree counts again from zero, and keeps counting
        assertThat(engine.status("org").orElseThrow().windows().get(0).used().total()).isPositive();
    }

    private static void awaitServed(AtomicLong served, long atLeast) throws InterruptedException {
        for (int i = 0; i < 2_000 && served.get() < atLeast; i++) {
            Thread.sleep(5);
        }
        assertThat(served.get()).as("requests served").isGreaterThanOrEqualTo(atLeast);
    }

    private void awaitEvent(String operation) throws InterruptedException {
        for (int i = 0; i < 2_000; i++) {
            if (events.stream().anyMatch(e -> e instanceof BudgetEvent.StoreFailure f
                    && f.operation().equals(operation))) {
                return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no store-failure event '" + operation + "'");
    }

    /** Writes to two streams: the test log keeps its output, the test reads its copy. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
