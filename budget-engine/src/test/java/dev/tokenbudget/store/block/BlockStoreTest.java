package dev.tokenbudget.store.block;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.LimitOverride;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import dev.tokenbudget.store.redis.TestRedis;
import dev.tokenbudget.testing.Poll;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Token blocks against a real Redis: decisions, replies and reads equal those of the store deciding
 * one request at a time; the status shows a block's unspent tokens as reserved; an instance that
 * dies with a block leaves it to be charged in full at its reservation.
 */
class BlockStoreTest {

    private static final WindowSpec HOUR = WindowSpec.rolling(Duration.ofHours(1));
    private static final WindowSpec DAY = WindowSpec.calendar(Period.DAY, ZoneOffset.UTC);
    private static final WindowSpec MONTH = WindowSpec.calendar(Period.MONTH, ZoneOffset.UTC);
    private static final List<Integer> THRESHOLDS = List.of(50, 80, 90, 100);
    private static final BlockSettings BLOCKS = BlockSettings.of(32, 0.25, Duration.ofSeconds(30));

    private final List<RedisBudgetStore> opened = new ArrayList<>();
    private String prefix;
    private String onePrefix;

    @BeforeEach
    void prefixes() {
        prefix = TestRedis.uniquePrefix("blocks");
        onePrefix = TestRedis.uniquePrefix("oneby1");
    }

    @AfterEach
    void close() {
        opened.forEach(RedisBudgetStore::close);
        TestRedis.deleteKeys(prefix);
        TestRedis.deleteKeys(onePrefix);
    }

    private RedisBudgetStore redis(String p) {
        RedisBudgetStore s = RedisBudgetStore.open(TestRedis.uri(), Duration.ofSeconds(5), p);
        opened.add(s);
        return s;
    }

    static List<Slot> path(Instant t) {
        return List.of(
                new Slot("team", DAY.at(t), Limits.total(200_000), Limits.total(200_000), THRESHOLDS),
                new Slot("team", HOUR.at(t), new Limits(90_000, Limits.NONE, Limits.NONE),
                        new Limits(90_000, Limits.NONE, Limits.NONE), THRESHOLDS),
                new Slot("org", MONTH.at(t), new Limits(Limits.NONE, 150_000, 400_000),
                        new Limits(Limits.NONE, 150_000, 400_000), List.of(75)));
    }

    @Test
    void theLedgerAndLimitChangesAreTheUnderlyingStoresOwn() {
        RedisBudgetStore redis = redis(prefix);
        BlockStore blocks = new BlockStore(redis, BLOCKS);
        LedgerChange change = new LedgerChange(LedgerChange.Kind.LIMITS_CHANGED, "team", "day",
                Map.of("total", 100L), Map.of("total", 200L), "cli", null, "limits:1");
        LedgerEntry entry = blocks.appendLedger("tree", Instant.parse("2026-12-07T10:00:00Z"), change);
        assertThat(redis.ledger("tree", 0, 10).entries()).containsExactly(entry);
        assertThat(blocks.ledger("tree", 0, 10)).isEqualTo(redis.ledger("tree", 0, 10));

        long version = blocks.saveLimits(new LimitOverride("team", "day", Limits.total(100), Limits.total(200), 0));
        assertThat(version).isPositive();
        assertThat(redis.limitOverrides(0).version()).isEqualTo(version);
        assertThat(blocks.limitOverrides(0)).isEqualTo(redis.limitOverrides(0));
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void everyDecisionReplyAndReadEqualsTheOneByOneStore(long seed) {
        Random random = new Random(seed);
        RedisBudgetStore one = redis(onePrefix);
        BlockStore blocks = new BlockStore(redis(prefix), BLOCKS);
        Instant now = Instant.parse("2026-05-10T10:00:00Z");
        int crossings = 0;
        int refused = 0;
        for (int i = 0; i < 600; i++) {
            now = now.plusMillis(random.nextInt(2_000));
            long in = 50 + random.nextInt(900);
            long out = 50 + random.nextInt(1_500);
            String lease = "l" + i;
            ReserveCommand c = new ReserveCommand("t", lease, now, now.plusSeconds(600), path(now), in, out);
            ReserveResult a = one.reserve(c);
            ReserveResult b = blocks.reserve(c);
            assertThat(summary(b)).as("reserve %d", i).isEqualTo(summary(a));
            if (!a.admitted()) {
                refused++;
                continue;
            }
            int kind = random.nextInt(20);
            SettleCommand s = kind == 0 ? SettleCommand.release("t", lease, now)
                    // one in twenty uses more than it reserved, as a provider may report
                    : new SettleCommand("t", lease, now, kind == 1 ? in + 200 : random.nextLong(in + 1),
                    random.nextLong(out + 1), false);
            SettleResult sa = one.settle(s);
            SettleResult sb = blocks.settle(s);
            assertThat(sb.status()).isEqualTo(sa.status());
            assertThat(sb.crossings()).as("crossings of settle %d", i).isEqualTo(sa.crossings());
            crossings += sa.crossings().size();
            // reads: the same used tokens; a block's unspent tokens show as reserved on top
            List<SlotState> ra = one.read("t", path(now), now);
            List<SlotState> rb = blocks.read("t", path(now), now);
            for (int k = 0; k < ra.size(); k++) {
                assertThat(rb.get(k).used()).as("used of slot %d after %d", k, i).isEqualTo(ra.get(k).used());
                assertThat(rb.get(k).reserved().total()).isGreaterThanOrEqualTo(ra.get(k).reserved().total());
            }
        }
        BlockStats stats = blocks.stats();
        // the workload went through thresholds to the caps, and most decisions were made in memory
        assertThat(crossings).isGreaterThan(5);
        assertThat(refused).isGreaterThan(10);
        assertThat(stats.carved()).isGreaterThan(100);
        assertThat(stats.blocks()).isGreaterThan(5);
        assertThat(stats.oneByOne()).isGreaterThan(10);
        assertThat(stats.renewedAhead()).as("next blocks reserved ahead").isPositive();
        blocks.close();
        assertThat(one.read("t", path(now), now)).isEqualTo(redis(prefix).read("t", path(now), now));
    }

    private static String summary(ReserveResult r) {
        return r.admitted() + " " + r.bindingSlot() + " " + r.bindingDimension() + " " + r.states() + " " + r.output()
                + " " + r.fitted() + " " + r.cause() + " " + r.room();
    }

    @Test
    void theStatusShowsWhatABlockHasNotSpentAsReserved() {
        RedisBudgetStore plain = redis(prefix);
        BlockStore blocks = new BlockStore(redis(prefix), BLOCKS);
        Instant now = Instant.parse("2026-05-10T10:00:00Z");
        List<Slot> path = path(now);
        reserveAndSettle(blocks, "first", now, 100, 100, 80, 60); // one by one: learns the path
        ReserveResult second = reserveAndSettle(blocks, "second", now, 100, 100, 70, 50); // reserves a block
        assertThat(blocks.stats().blocks()).isEqualTo(1);
        blocks.reserve(new ReserveCommand("t", "third", now, now.plusSeconds(60), path, 100, 100));
        SlotState day = plain.read("t", path, now).get(0);
        long block = day.reserved().total();
        assertThat(block).as("the store holds the whole block as reserved").isGreaterThan(200);
        assertThat(second.states().get(0).reserved().total()).isEqualTo(200);
        // through the blocks' instance: what the block spent is used, the rest (third in flight) reserved
        SlotState seen = blocks.read("t", path, now).get(0);
        assertThat(seen.used().total()).isEqualTo(140 + 120);
        assertThat(seen.reserved().total()).isEqualTo(block - 120);
        assertThat(seen.committed()).isEqualTo(day.committed());
        blocks.settle(new SettleCommand("t", "third", now, 10, 10, false));
        blocks.close(); // settles the block: the store now shows what was used, nothing reserved
        assertThat(plain.read("t", path, now).get(0)).isEqualTo(new SlotState(TokenCounts.of(160, 120),
                TokenCounts.ZERO));
    }

    private static ReserveResult reserveAndSettle(BlockStore s, String lease, Instant now, long in, long out,
                                                  long usedIn, long usedOut) {
        ReserveResult r = s.reserve(new ReserveCommand("t", lease, now, now.plusSeconds(60), path(now), in, out));
        assertThat(r.admitted()).isTrue();
        s.settle(new SettleCommand("t", lease, now, usedIn, usedOut, false));
        return r;
    }

    @Test
    void usageBeyondTheBlockIsCountedAndCrossesThresholdsInItsOwnSettle() {
        RedisBudgetStore plain = redis(prefix);
        BlockStore blocks = new BlockStore(redis(prefix), BLOCKS);
        Instant now = Instant.parse("2026-05-10T10:00:00Z");
        List<Slot> path = path(now);
        reserveAndSettle(blocks, "first", now, 100, 100, 100, 100);
        blocks.reserve(new ReserveCommand("t", "second", now, now.plusSeconds(60), path, 100, 100));
        assertThat(blocks.stats().carved()).isEqualTo(1);
        // the provider reports far more than the block holds (32 x 100 input): past 50 % of the day
        SettleResult r = blocks.settle(new SettleCommand("t", "second", now, 120_000, 100, false));
        assertThat(r.crossings()).extracting(c -> c.budgetId() + "/" + c.percent())
                .contains("team/50", "team/80", "team/90", "team/100");
        assertThat(plain.read("t", path, now).get(0)).isEqualTo(new SlotState(TokenCounts.of(120_100, 200),
                TokenCounts.ZERO));
    }

    @Test
    void aRequestFromABlockLeftUnsettledIsChargedAtItsReservationWhenItsLeaseRunsOut() {
        RedisBudgetStore plain = redis(prefix);
        BlockStore blocks = new BlockStore(redis(prefix), BLOCKS);
        Instant now = Instant.parse("2026-05-10T10:00:00Z");
        List<Slot> path = path(now);
        reserveAndSettle(blocks, "first", now, 100, 100, 10, 10);
        blocks.reserve(new ReserveCommand("t", "lost", now, now.plusSeconds(60), path, 300, 200));
        assertThat(blocks.stats().carved()).isEqualTo(1);
        assertThat(blocks.expireLeases(now.plusSeconds(59))).isEmpty();
        assertThat(blocks.expireLeases(now.plusSeconds(61))).singleElement().satisfies(e -> {
            assertThat(e.leaseId()).isEqualTo("lost");
            assertThat(e.charged()).isEqualTo(TokenCounts.of(300, 200));
            assertThat(e.budgetIds()).containsExactly("team", "org");
        });
        // a settle after the expiry finds nothing, as in Redis
        assertThat(blocks.settle(new SettleCommand("t", "lost", now, 1, 1, false)).status())
                .isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        blocks.close();
        assertThat(plain.read("t", path, now).get(0)).isEqualTo(new SlotState(TokenCounts.of(310, 210),
                TokenCounts.ZERO));
    }

    @Test
    void aRequestOnANewLimitSettlesTheBlockOfTheOldOne() {
        RedisBudgetStore plain = redis(prefix);
        BlockStore blocks = new BlockStore(redis(prefix), BLOCKS);
        Instant now = Instant.parse("2026-05-10T10:00:00Z");
        List<Slot> old = path(now);
        reserveAndSettle(blocks, "first", now, 100, 100, 10, 10);
        reserveAndSettle(blocks, "second", now, 100, 100, 20, 20);
        assertThat(plain.read("t", old, now).get(0).reserved().total()).as("the block").isPositive();
        // the day's limit is raised at run time: the path's slots change
        List<Slot> raised = new ArrayList<>(old);
        raised.set(0, new Slot("team", DAY.at(now), Limits.total(300_000), Limits.total(300_000), THRESHOLDS));
        ReserveResult r = blocks.reserve(new ReserveCommand("t", "third", now, now.plusSeconds(60), raised, 100, 100));
        // decided by Redis alone, with the old block settled first: nothing but this request reserved
        assertThat(r.states().get(0)).isEqualTo(new SlotState(TokenCounts.of(30, 30), TokenCounts.of(100, 100)));
        assertThat(plain.read("t", raised, now).get(0)).isEqualTo(r.states().get(0));
    }

    @Test
    void redisAlwaysHoldsEveryRequestInFlightAsReserved() {
        RedisBudgetStore plain = redis(prefix);
        BlockStore blocks = new BlockStore(redis(prefix), BLOCKS);
        Instant now = Instant.parse("2026-05-10T10:00:00Z");
        List<Slot> path = path(now);
        reserveAndSettle(blocks, "first", now, 100, 100, 100, 100);
        // 100 requests in flight, none settled: they need several blocks of 32
        for (int i = 1; i <= 100; i++) {
            ReserveResult r = blocks.reserve(new ReserveCommand("t", "f" + i, now, now.plusSeconds(60), path, 100, 50));
            assertThat(r.admitted()).isTrue();
            SlotState redis = plain.read("t", path, now).get(0);
            assertThat(redis.reserved().input()).as("after %d", i).isGreaterThanOrEqualTo(100L * i);
            assertThat(redis.reserved().output()).as("after %d", i).isGreaterThanOrEqualTo(50L * i);
        }
        assertThat(blocks.stats().blocks()).isGreaterThan(1);
    }

    @Test
    void aBlockLeftBehindByADeadInstanceIsChargedInFullWhenItsLeaseRunsOut() throws Exception {
        RedisBudgetStore survivor = redis(prefix);
        RedisBudgetStore dying = redis(prefix);
        BlockStore blocks = new BlockStore(dying, BlockSettings.of(32, 0.25, Duration.ofMillis(500)));
        Instant now = Instant.now();
        List<Slot> path = path(now);
        // leases of one second: the block's runs out after 2 s + the flush interval
        ReserveResult first = blocks.reserve(new ReserveCommand("t", "a", now, now.plusSeconds(1), path, 100, 100));
        blocks.settle(new SettleCommand("t", "a", now, 50, 50, false));
        ReserveResult second = blocks.reserve(new ReserveCommand("t", "b", now, now.plusSeconds(1), path, 100, 100));
        blocks.settle(new SettleCommand("t", "b", now, 40, 40, false));
        assertThat(first.admitted() && second.admitted()).isTrue();
        assertThat(blocks.stats().blocks()).isEqualTo(1);
        long block = survivor.read("t", path, now).get(0).reserved().total();
        // the instance dies: its connection goes, nothing is settled to Redis
        dying.close();
        List<LeaseExpiry> expired = new ArrayList<>();
        Poll.until(Duration.ofSeconds(10), Duration.ofMillis(100), () -> {
            expired.addAll(survivor.expireLeases(Instant.now()));
            return !expired.isEmpty();
        });
        assertThat(expired).singleElement().satisfies(e -> assertThat(e.charged().total()).isEqualTo(block));
        SlotState day = survivor.read("t", path, now).get(0);
        // charged at the reservation: the block's 80 used tokens are in it, nothing is lost
        assertThat(day).isEqualTo(new SlotState(TokenCounts.of(50 + block / 2, 50 + block / 2), TokenCounts.ZERO));
    }
}
