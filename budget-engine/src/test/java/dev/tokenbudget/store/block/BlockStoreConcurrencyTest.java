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
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three instances (each its own Redis client) in token blocks, four threads each, on one tree until
 * its caps refuse: admitted reservations never pass a cap, every token settled is counted once
 * after the instances close, and each threshold fires once.
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
        List<BlockStore> instances = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            instances.add(new BlockStore(RedisBudgetStore.open(TestRedis.uri(), Duration.ofSeconds(5), prefix),
                    BlockSettings.of(64, 1.0, Duration.ofMillis(200))));
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
                    for (int i = 0; i < 400; i++) {
                        // mostly one size, so that blocks near the cap fill it to the token
                        long in = random.nextInt(8) == 0 ? 100 + random.nextInt(500) : 300;
                        long out = 300;
                        String lease = "c" + id + "-" + i;
                        ReserveResult r = store.reserve(new ReserveCommand("t", lease, now, now.plusSeconds(600),
                                path, in, out));
                        if (!r.admitted()) {
                            refused.incrementAndGet();
                            continue;
                        }
                        // what the reply shows as committed never passes a cap
                        assertThat(r.states().get(0).committed().total()).isLessThanOrEqualTo(CAP);
                        assertThat(r.states().get(1).committed().input()).isLessThanOrEqualTo(200_000);
                        boolean release = random.nextInt(10) == 0;
                        // settled at the reservation: used is then the sum of the admitted reservations
                        long ui = release ? 0 : in;
                        long uo = release ? 0 : out;
                        SettleResult s = store.settle(release ? SettleCommand.release("t", lease, now)
                                : new SettleCommand("t", lease, now, ui, uo, false));
                        assertThat(s.status()).isEqualTo(release ? SettleResult.Status.RELEASED
                                : SettleResult.Status.SETTLED);
                        settledIn.addAndGet(ui);
                        settledOut.addAndGet(uo);
                        crossings.addAll(s.crossings());
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
        for (BlockStore s : instances) {
            carved += s.stats().carved();
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
    }
}
