package dev.tokenbudget.store.block;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.ThresholdCrossing;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import dev.tokenbudget.store.redis.TestRedis;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three instances (each its own Redis client) in token blocks, four threads each, on one tree until
 * its caps refuse (one request of each thread at a time, or eight through the asynchronous calls):
 * admitted reservations never pass a cap, every token settled is counted once after the instances
 * close, and each threshold fires once.
 */
class BlockStoreConcurrencyTest {

    private static final WindowSpec DAY = WindowSpec.calendar(Period.DAY, ZoneOffset.UTC);
    private static final WindowSpec MONTH = WindowSpec.calendar(Period.MONTH, ZoneOffset.UTC);
    private static final long CAP = 300_000;

    private final String prefix = TestRedis.uniquePrefix("blockconc");

    @AfterEach
    void clean() {
        TestRedis.deleteKeys(prefix);
    }

    private static List<Slot> path(Instant t) {
        return List.of(
                new Slot("team", DAY.at(t), Limits.total(CAP), Limits.total(CAP), List.of(50)),
                new Slot("org", MONTH.at(t), new Limits(200_000, Limits.NONE, Limits.NONE),
                        new Limits(200_000, Limits.NONE, Limits.NONE), List.of(50)));
    }

    @Test
    void instancesInBlocksNeverAdmitPastTheCapAndCountEveryTokenOnce() throws Exception {
        run(BlockSettings.of(64, 1.0, Duration.ofMillis(200)), 1);
    }

    /**
     * Small blocks renewed ahead at half, eight requests of each thread in flight at once through
     * the asynchronous calls: blocks are reserved while others still take requests, requests wait
     * for them, and the caps and totals hold exactly as above.
     */
    @Test
    void blocksRenewedAheadUnderAsynchronousLoadKeepTheCapsAndCountEveryTokenOnce() throws Exception {
        BlockStats stats = run(BlockSettings.of(16, 1.0, Duration.ofMillis(200)).withRenewBelow(0.5), 8);
        assertThat(stats.renewedAhead()).isPositive();
        assertThat(stats.blocks()).as("how many depends on timing; more than one per instance").isGreaterThan(3);
    }

    private BlockStats run(BlockSettings settings, int inFlight) throws Exception {
        List<BlockStore> instances = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            instances.add(new BlockStore(RedisBudgetStore.open(TestRedis.uri(), Duration.ofSeconds(5), prefix),
                    settings));
        }
        Instant now = Instant.parse("2026-05-10T10:00:00Z");
        List<Slot> path = path(now);
        AtomicLong settledIn = new AtomicLong();
        AtomicLong settledOut = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        Queue<ThresholdCrossing> crossings = new ConcurrentLinkedQueue<>();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 12; t++) {
            BlockStore store = instances.get(t % 3);
            int id = t;
            threads.add(new Thread(() -> {
                Random random = new Random(id);
                try {
                    for (int i = 0; i < 400; i += inFlight) {
                        List<ReserveCommand> asked = new ArrayList<>();
                        List<CompletableFuture<ReserveResult>> replies = new ArrayList<>();
                        for (int j = i; j < i + inFlight; j++) {
                            // mostly one size, so that blocks near the cap fill it to the token
                            long in = random.nextInt(8) == 0 ? 100 + random.nextInt(500) : 300;
                            ReserveCommand c = new ReserveCommand("t", "c" + id + "-" + j, now,
                                    now.plusSeconds(600), path, in, 300);
                            asked.add(c);
                            replies.add(inFlight == 1 ? CompletableFuture.completedFuture(store.reserve(c))
                                    : store.reserveAsync(c));
                        }
                        List<CompletableFuture<SettleResult>> settles = new ArrayList<>();
                        List<Boolean> releases = new ArrayList<>();
                        for (int j = 0; j < asked.size(); j++) {
                            ReserveCommand c = asked.get(j);
                            ReserveResult r = replies.get(j).get(30, TimeUnit.SECONDS);
                            if (!r.admitted()) {
                                refused.incrementAndGet();
                                continue;
                            }
                            // what the reply shows as committed never passes a cap
                            assertThat(r.states().get(0).committed().total()).isLessThanOrEqualTo(CAP);
                            assertThat(r.states().get(1).committed().input()).isLessThanOrEqualTo(200_000);
                            boolean release = random.nextInt(10) == 0;
                            // settled at the reservation: used is then the sum of the admitted reservations
                            long ui = release ? 0 : c.input();
                            long uo = release ? 0 : c.output();
                            SettleCommand sc = release ? SettleCommand.release("t", c.leaseId(), now)
                                    : new SettleCommand("t", c.leaseId(), now, ui, uo, false);
                            settles.add(inFlight == 1 ? CompletableFuture.completedFuture(store.settle(sc))
                                    : store.settleAsync(sc));
                            releases.add(release);
                            settledIn.addAndGet(ui);
                            settledOut.addAndGet(uo);
                        }
                        for (int j = 0; j < settles.size(); j++) {
                            SettleResult s = settles.get(j).get(30, TimeUnit.SECONDS);
                            assertThat(s.status()).isEqualTo(releases.get(j) ? SettleResult.Status.RELEASED
                                    : SettleResult.Status.SETTLED);
                            crossings.addAll(s.crossings());
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failures).isEmpty();
        long carved = 0;
        BlockStats all = new BlockStats(0, 0, 0, 0, 0, 0, 0);
        for (BlockStore s : instances) {
            BlockStats st = s.stats();
            carved += st.carved();
            all = new BlockStats(all.blocks() + st.blocks(), all.carved() + st.carved(), all.oneByOne() + st.oneByOne(),
                    all.flushes() + st.flushes(), all.refusedBlocks() + st.refusedBlocks(),
                    all.renewedAhead() + st.renewedAhead(), all.waited() + st.waited());
            s.close();
        }
        try (RedisBudgetStore check = RedisBudgetStore.open(TestRedis.uri(), Duration.ofSeconds(5), prefix)) {
            crossings.addAll(check.settle(SettleCommand.release("t", "none", now)).crossings());
            List<SlotState> st = check.read("t", path, now);
            TokenCounts settled = TokenCounts.of(settledIn.get(), settledOut.get());
            assertThat(st.get(0)).isEqualTo(new SlotState(settled, TokenCounts.ZERO));
            assertThat(st.get(1)).isEqualTo(new SlotState(settled, TokenCounts.ZERO));
            assertThat(settled.total()).isLessThanOrEqualTo(CAP);
        }
        // the run went to the caps, partly in memory (how much depends on timing); each threshold fired once
        assertThat(refused.get()).isGreaterThan(100);
        assertThat(carved).isGreaterThan(100);
        assertThat(crossings).extracting(c -> c.budgetId() + "/" + c.windowKey() + "/" + c.percent())
                .doesNotHaveDuplicates().contains("team/day:2026-05-10/50", "org/month:2026-05/50");
        return all;
    }
}
