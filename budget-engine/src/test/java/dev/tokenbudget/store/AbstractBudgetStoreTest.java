package dev.tokenbudget.store;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowRef;
import dev.tokenbudget.window.WindowSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The storage conformance suite: every {@link BudgetStore} runs it by supplying a fresh store,
 * so that the in-memory and Redis stores cannot drift apart.
 *
 * <p>Time: commands carry the engine's {@code now}; stores with {@link BudgetStore.Capability#SERVER_TIME}
 * time leases by their own clock, so lease tests reserve with a short lease and call
 * {@link #letStoreTimePass} before they pass a later {@code now}; tests that move {@code now} far
 * ahead settle their leases first.
 */
public abstract class AbstractBudgetStoreTest {

    protected static final Instant T0 = Instant.parse("2026-05-10T10:00:00Z");
    /** Long enough never to expire during a test, on any clock. */
    protected static final Duration LONG_LEASE = Duration.ofDays(60);
    /** Short enough to wait out in a lease-expiry test. */
    protected static final Duration SHORT_LEASE = Duration.ofMillis(150);

    private static final WindowSpec MONTH = WindowSpec.calendar(Period.MONTH, ZoneOffset.UTC);
    private static final WindowSpec HOUR = WindowSpec.rolling(Duration.ofHours(1));
    private static final List<Integer> THRESHOLDS = List.of(50, 90, 100);

    protected BudgetStore store;
    private String tree;
    private int leaseCounter;

    /** A new, empty store (or one whose keys no other test uses). */
    protected abstract BudgetStore createStore();

    /**
     * Returns once the store's own lease clock has moved on by at least {@code d}. Stores without
     * {@code SERVER_TIME} time leases by the command's {@code now}, which the tests move themselves.
     */
    protected void letStoreTimePass(Duration d) {
        // the command's now is the store's clock
    }

    /** Reserve/settle rounds per thread in the concurrency tests. */
    protected int concurrencyRounds() {
        return 400;
    }

    @BeforeEach
    void openStore() {
        store = createStore();
        tree = "tree-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    // ---- fixtures ----------------------------------------------------------------------------

    protected String tree() {
        return tree;
    }

    protected static Slot month(String budget, Instant at, Limits limits, Limits caps) {
        return new Slot(budget, MONTH.at(at), limits, caps, THRESHOLDS);
    }

    protected static Slot month(String budget, Instant at, long totalCap) {
        return month(budget, at, Limits.total(totalCap), Limits.total(totalCap));
    }

    protected static Slot hour(String budget, Instant at, long totalCap) {
        return new Slot(budget, HOUR.at(at), Limits.total(totalCap), Limits.total(totalCap), THRESHOLDS);
    }

    protected static Slot soft(String budget, Instant at, long totalLimit) {
        return month(budget, at, Limits.total(totalLimit), new Limits(Limits.NONE, Limits.NONE, Limits.NONE));
    }

    protected String nextLease() {
        return "lease-" + (++leaseCounter);
    }

    protected ReserveResult reserve(String lease, Instant now, Duration ttl, long in, long out, Slot... slots) {
        return store.reserve(new ReserveCommand(tree, lease, now, now.plus(ttl), List.of(slots), in, out));
    }

    protected String admit(Instant now, long in, long out, Slot... slots) {
        String lease = nextLease();
        ReserveResult r = reserve(lease, now, LONG_LEASE, in, out, slots);
        assertThat(r.admitted()).as("reservation %s admitted", lease).isTrue();
        return lease;
    }

    /** Reserves at {@link #T0} on a {@link #SHORT_LEASE}, asserting admission. */
    protected String admitShort(long in, long out, Slot... slots) {
        String lease = nextLease();
        assertThat(reserve(lease, T0, SHORT_LEASE, in, out, slots).admitted()).isTrue();
        return lease;
    }

    /** Lets short leases run out on the store's clock; returns a command time past them. */
    protected Instant pastShortLease() {
        letStoreTimePass(SHORT_LEASE);
        return T0.plus(SHORT_LEASE).plusMillis(1);
    }

    protected SettleResult settle(String lease, Instant now, long in, long out) {
        return store.settle(new SettleCommand(tree, lease, now, in, out, false));
    }

    protected SettleResult release(String lease, Instant now) {
        return store.settle(SettleCommand.release(tree, lease, now));
    }

    protected SlotState read(Instant now, Slot slot) {
        return store.read(tree, List.of(slot), now).get(0);
    }

    protected static SlotState state(long usedIn, long usedOut, long resIn, long resOut) {
        return new SlotState(TokenCounts.of(usedIn, usedOut), TokenCounts.of(resIn, resOut));
    }

    // ---- reserve: atomic over the path, caps per dimension -------------------------------------

    @Test
    void reserveChargesEverySlotOfThePath() {
        Slot child = month("team", T0, 1_000);
        Slot parent = month("org", T0, 5_000);
        Slot rolling = hour("org", T0, 2_000);
        ReserveResult r = reserve(nextLease(), T0, LONG_LEASE, 30, 70, child, parent, rolling);

        assertThat(r.admitted()).isTrue();
        assertThat(r.bindingSlot()).isEqualTo(-1);
        assertThat(r.bindingDimension()).isNull();
        assertThat(r.bindingBuckets()).isNull();
        assertThat(r.expired()).isEmpty();
        assertThat(r.states()).containsExactly(state(0, 0, 30, 70), state(0, 0, 30, 70), state(0, 0, 30, 70));
        assertThat(store.read(tree, List.of(child, parent, rolling), T0)).isEqualTo(r.states());
    }

    @Test
    void refusalByOneSlotChargesNoSlot() {
        Slot child = month("team", T0, 1_000);
        Slot parent = month("org", T0, 100);
        Slot grand = month("root", T0, 1_000);
        admit(T0, 40, 40, child, parent, grand);

        ReserveResult r = reserve(nextLease(), T0, LONG_LEASE, 10, 11, child, parent, grand);

        assertThat(r.admitted()).isFalse();
        assertThat(r.bindingSlot()).isEqualTo(1);
        assertThat(r.bindingDimension()).isEqualTo(Dimension.TOTAL);
        assertThat(r.states()).hasSize(3);
        assertThat(r.states().get(1)).isEqualTo(state(0, 0, 40, 40));
        assertThat(store.read(tree, List.of(child, parent, grand), T0))
                .containsOnly(state(0, 0, 40, 40));
    }

    @Test
    void theFirstRefusingSlotIsBinding() {
        Slot a = month("a", T0, 50);
        Slot b = month("b", T0, 50);
        ReserveResult r = reserve(nextLease(), T0, LONG_LEASE, 60, 0, month("c", T0, 1_000), a, b);
        assertThat(r.admitted()).isFalse();
        assertThat(r.bindingSlot()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Dimension.class)
    void capsAreEnforcedPerDimensionAndInclusive(Dimension d) {
        Limits caps = new Limits(Limits.NONE, Limits.NONE, Limits.NONE).with(d, 100);
        Slot s = month("team", T0, caps, caps);
        switch (d) {
            case INPUT -> admit(T0, 100, 0, s);
            case OUTPUT -> admit(T0, 0, 100, s);
            case TOTAL -> admit(T0, 60, 40, s);
        }

        ReserveResult more = reserve(nextLease(), T0, LONG_LEASE, d == Dimension.OUTPUT ? 0 : 1,
                d == Dimension.INPUT ? 0 : 1, s);
        assertThat(more.admitted()).isFalse();
        assertThat(more.bindingDimension()).isEqualTo(d);

        // the dimension without a cap still admits
        if (d == Dimension.INPUT) {
            assertThat(reserve(nextLease(), T0, LONG_LEASE, 0, 10_000, s).admitted()).isTrue();
        } else if (d == Dimension.OUTPUT) {
            assertThat(reserve(nextLease(), T0, LONG_LEASE, 10_000, 0, s).admitted()).isTrue();
        }
    }

    @Test
    void aRequestLargerThanTheCapIsRefusedOnAnEmptyWindow() {
        ReserveResult r = reserve(nextLease(), T0, LONG_LEASE, 80, 21, month("team", T0, 100));
        assertThat(r.admitted()).isFalse();
        assertThat(r.states().get(0)).isEqualTo(SlotState.EMPTY);
    }

    /**
     * The most an empty window admits is its cap, calendar or rolling, and for a child overflowing
     * into its parent's pool its cap plus its overflow cap: the bound the engine holds a request to
     * when it answers that the request can never fit (NeverFits), so every store must keep it.
     */
    @Test
    void anEmptyWindowAdmitsExactlyItsCapAndAnOverflowingChildItsCapPlusItsOverflowCap() {
        for (Slot s : List.of(month("team", T0, 100), hour("team", T0, 100))) {
            ReserveResult over = reserve(nextLease(), T0, LONG_LEASE, 1, 100, s);
            assertThat(over.admitted()).as(s.key()).isFalse();
            assertThat(over.cause()).isEqualTo(BindingCause.CAP);
            String lease = nextLease();
            assertThat(reserve(lease, T0, LONG_LEASE, 1, 99, s).admitted()).as(s.key()).isTrue();
            store.settle(SettleCommand.release(tree, lease, T0));
        }
        Slot pooled = child("a", 100, true, 50);
        Slot pool = pool(10_000, 1_000);
        ReserveResult over = reserve(nextLease(), T0, LONG_LEASE, 0, 151, pooled, pool);
        assertThat(over.admitted()).isFalse();
        assertThat(over.bindingSlot()).isZero();
        assertThat(over.cause()).isEqualTo(BindingCause.OVERFLOW_CAP);
        assertThat(reserve(nextLease(), T0, LONG_LEASE, 0, 150, pooled, pool).admitted()).isTrue();
    }

    @Test
    void aSlotWithoutCapsNeverRefuses() {
        Slot s = soft("team", T0, 100);
        ReserveResult r = reserve(nextLease(), T0, LONG_LEASE, 5_000, 5_000, s);
        assertThat(r.admitted()).isTrue();
        assertThat(r.states().get(0)).isEqualTo(state(0, 0, 5_000, 5_000));
    }

    @Test
    void usedPlusReservedCountsAgainstTheCap() {
        Slot s = month("team", T0, 100);
        String held = admit(T0, 30, 30, s);
        String done = admit(T0, 20, 10, s);
        settle(done, T0, 20, 10);
        assertThat(read(T0, s)).isEqualTo(state(20, 10, 30, 30));

        assertThat(reserve(nextLease(), T0, LONG_LEASE, 5, 6, s).admitted()).isFalse();
        ReserveResult fits = reserve(nextLease(), T0, LONG_LEASE, 5, 5, s);
        assertThat(fits.admitted()).isTrue();
        assertThat(fits.states().get(0)).isEqualTo(state(20, 10, 35, 35));
        assertThat(held).isNotNull();
    }

    // ---- settle and release ----------------------------------------------------------------------

    @Test
    void settleMovesReservedToUsedAtTheActualAmounts() {
        Slot child = month("team", T0, 1_000);
        Slot parent = month("org", T0, 1_000);
        String lease = admit(T0, 100, 50, child, parent);

        SettleResult r = settle(lease, T0, 70, 20);

        assertThat(r.status()).isEqualTo(SettleResult.Status.SETTLED);
        assertThat(r.expired()).isEmpty();
        assertThat(store.read(tree, List.of(child, parent), T0)).containsOnly(state(70, 20, 0, 0));
    }

    @Test
    void settleAboveTheReservationChargesTheActualAmount() {
        Slot s = month("team", T0, 100);
        String lease = admit(T0, 50, 50, s);
        settle(lease, T0, 80, 60);
        assertThat(read(T0, s)).isEqualTo(state(80, 60, 0, 0));
        assertThat(reserve(nextLease(), T0, LONG_LEASE, 1, 0, s).admitted()).isFalse();
    }

    @Test
    void releaseFreesTheReservationAndChargesNothing() {
        Slot s = month("team", T0, 100);
        String lease = admit(T0, 60, 40, s);
        SettleResult r = release(lease, T0);
        assertThat(r.status()).isEqualTo(SettleResult.Status.RELEASED);
        assertThat(r.crossings()).isEmpty();
        assertThat(read(T0, s)).isEqualTo(SlotState.EMPTY);
        assertThat(reserve(nextLease(), T0, LONG_LEASE, 60, 40, s).admitted()).isTrue();
    }

    @Test
    void aSecondSettleIsANoOp() {
        Slot s = month("team", T0, 1_000);
        String lease = admit(T0, 100, 100, s);
        settle(lease, T0, 10, 10);
        SettleResult again = settle(lease, T0, 50, 50);
        assertThat(again.status()).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        assertThat(again.crossings()).isEmpty();
        assertThat(release(lease, T0).status()).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        assertThat(read(T0, s)).isEqualTo(state(10, 10, 0, 0));
    }

    @Test
    void settleAfterReleaseIsANoOp() {
        Slot s = month("team", T0, 1_000);
        String lease = admit(T0, 100, 100, s);
        release(lease, T0);
        assertThat(settle(lease, T0, 50, 50).status()).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        assertThat(read(T0, s)).isEqualTo(SlotState.EMPTY);
    }

    @Test
    void settleOfAnUnknownLeaseOrTreeChangesNothing() {
        Slot s = month("team", T0, 1_000);
        admit(T0, 10, 10, s);
        assertThat(settle("never-reserved", T0, 5, 5).status()).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        SettleResult other = store.settle(new SettleCommand("no-such-tree-" + UUID.randomUUID(), "x", T0, 1, 1,
                false));
        assertThat(other.status()).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        assertThat(read(T0, s)).isEqualTo(state(0, 0, 10, 10));
    }

    // ---- leases ----------------------------------------------------------------------------------

    @Test
    void anExpiredLeaseIsChargedAtItsReservationExactlyOnce() {
        Slot child = month("team", T0, 1_000);
        Slot parent = month("org", T0, 1_000);
        Slot parentRolling = hour("org", T0, 1_000);
        String lease = admitShort(40, 60, child, parent, parentRolling);
        Instant later = pastShortLease();
        List<LeaseExpiry> expired = store.expireLeases(later);

        assertThat(expired).hasSize(1);
        LeaseExpiry e = expired.get(0);
        assertThat(e.treeId()).isEqualTo(tree);
        assertThat(e.leaseId()).isEqualTo(lease);
        assertThat(e.charged()).isEqualTo(TokenCounts.of(40, 60));
        assertThat(e.budgetIds()).containsExactly("team", "org");
        assertThat(store.read(tree, List.of(child, parent, parentRolling), later)).containsOnly(state(40, 60, 0, 0));

        assertThat(store.expireLeases(later.plusSeconds(1))).noneMatch(x -> x.leaseId().equals(lease));
        assertThat(settle(lease, later, 1, 1).status()).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        assertThat(release(lease, later).status()).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        assertThat(read(later, child)).isEqualTo(state(40, 60, 0, 0));
    }

    @Test
    void aLeaseNotYetExpiredIsLeftAlone() {
        Slot s = month("team", T0, 1_000);
        String lease = admit(T0, 10, 10, s);
        assertThat(store.expireLeases(T0.plusSeconds(1))).noneMatch(x -> x.leaseId().equals(lease));
        assertThat(settle(lease, T0, 5, 5).status()).isEqualTo(SettleResult.Status.SETTLED);
    }

    @Test
    void reserveReportsLeasesItFoundExpiredInPassing() {
        Slot s = month("team", T0, 1_000);
        String shortLease = admitShort(10, 20, s);
        String longLease = admit(T0, 1, 1, s);
        Instant later = pastShortLease();
        ReserveResult r = reserve(nextLease(), later, LONG_LEASE, 5, 5, s);

        assertThat(r.admitted()).isTrue();
        assertThat(r.expired()).extracting(LeaseExpiry::leaseId).containsExactly(shortLease);
        assertThat(r.expired().get(0).charged()).isEqualTo(TokenCounts.of(10, 20));
        assertThat(r.states().get(0)).isEqualTo(state(10, 20, 6, 6));
        assertThat(store.expireLeases(later)).noneMatch(x -> x.leaseId().equals(shortLease));
        assertThat(settle(longLease, later, 1, 1).status()).isEqualTo(SettleResult.Status.SETTLED);
    }

    @Test
    void settleReportsLeasesItFoundExpiredInPassing() {
        Slot s = month("team", T0, 1_000);
        String shortLease = admitShort(10, 20, s);
        String longLease = admit(T0, 1, 1, s);
        Instant later = pastShortLease();
        SettleResult r = settle(longLease, later, 1, 1);

        assertThat(r.status()).isEqualTo(SettleResult.Status.SETTLED);
        assertThat(r.expired()).extracting(LeaseExpiry::leaseId).containsExactly(shortLease);
        assertThat(read(later, s)).isEqualTo(state(11, 21, 0, 0));
        assertThat(store.expireLeases(later)).noneMatch(x -> x.leaseId().equals(shortLease));
    }

    @Test
    void settlingALeaseAfterItExpiredReportsTheExpiryOnceAndChargesTheReservation() {
        Slot s = month("team", T0, 1_000);
        String lease = admitShort(10, 20, s);
        Instant later = pastShortLease();
        SettleResult r = settle(lease, later, 1, 1);

        assertThat(r.status()).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        assertThat(r.expired()).extracting(LeaseExpiry::leaseId).containsExactly(lease);
        assertThat(read(later, s)).isEqualTo(state(10, 20, 0, 0));
        SettleResult again = settle(lease, later, 1, 1);
        assertThat(again.expired()).isEmpty();
    }

    @Test
    void leasesExpireOnlyThroughTheirOwnTree() {
        Slot s = month("team", T0, 1_000);
        String lease = admitShort(10, 20, s);
        Instant later = pastShortLease();
        String otherTree = "other-" + UUID.randomUUID().toString().substring(0, 8);
        ReserveResult elsewhere = store.reserve(new ReserveCommand(otherTree, "o-1", later, later.plus(LONG_LEASE),
                List.of(month("team", later, 1_000)), 1, 1));
        assertThat(elsewhere.expired()).isEmpty();
        assertThat(store.read(otherTree, List.of(month("team", later, 1_000)), later).get(0))
                .isEqualTo(state(0, 0, 1, 1));

        assertThat(store.expireLeases(later)).filteredOn(x -> x.leaseId().equals(lease)).hasSize(1)
                .allMatch(x -> x.treeId().equals(tree));
        store.settle(new SettleCommand(otherTree, "o-1", later, 1, 1, false));
    }

    @Test
    void anExpiredLeaseCanCrossThresholds() {
        Slot s = month("team", T0, 100);
        admitShort(30, 30, s);
        List<LeaseExpiry> expired = store.expireLeases(pastShortLease());
        assertThat(expired).hasSize(1);
        assertThat(expired.get(0).crossings()).extracting(ThresholdCrossing::percent).containsExactly(50);
    }

    // ---- thresholds ------------------------------------------------------------------------------

    @Test
    void eachThresholdFiresOncePerWindowAndLimit() {
        Slot s = month("team", T0, 100);
        assertThat(settleNew(s, T0, 60)).extracting(ThresholdCrossing::percent).containsExactly(50);
        assertThat(settleNew(s, T0, 10)).isEmpty();
        List<ThresholdCrossing> at95 = settleNew(s, T0, 25);
        assertThat(at95).extracting(ThresholdCrossing::percent).containsExactly(90);
        assertThat(at95.get(0).used()).isEqualTo(TokenCounts.of(95, 0));
        assertThat(at95.get(0).limits()).isEqualTo(Limits.total(100));
        assertThat(at95.get(0).budgetId()).isEqualTo("team");
        assertThat(at95.get(0).windowKey()).isEqualTo(s.window().key());
        assertThat(settleNew(s, T0, 5)).extracting(ThresholdCrossing::percent).containsExactly(100);
        assertThat(settleNew(s, T0, 50)).isEmpty();
    }

    @Test
    void oneSettlementCanCrossSeveralThresholdsInOrder() {
        Slot child = month("team", T0, 100);
        Slot parent = month("org", T0, 1_000);
        List<ThresholdCrossing> c = settleNew(List.of(child, parent), T0, 95);
        assertThat(c).extracting(ThresholdCrossing::budgetId, ThresholdCrossing::percent)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("team", 50),
                        org.assertj.core.groups.Tuple.tuple("team", 90));
    }

    @Test
    void thresholdsUseTheMostUsedLimitedDimension() {
        Limits limits = new Limits(1_000, 100, Limits.NONE);
        Slot s = month("team", T0, limits, limits);
        String lease = admit(T0, 10, 60, s);
        assertThat(settle(lease, T0, 10, 60).crossings()).extracting(ThresholdCrossing::percent)
                .containsExactly(50);
    }

    @Test
    void reservationsAloneCrossNoThreshold() {
        Slot s = month("team", T0, 100);
        admit(T0, 95, 0, s);
        String lease = admit(T0, 1, 0, s);
        assertThat(release(lease, T0).crossings()).isEmpty();
    }

    @Test
    void thresholdsRearmWhenTheLimitChanges() {
        Slot s100 = month("team", T0, 100);
        assertThat(settleNew(s100, T0, 60)).extracting(ThresholdCrossing::percent).containsExactly(50);
        Slot s200 = month("team", T0, 200);
        assertThat(settleNew(s200, T0, 50)).extracting(ThresholdCrossing::percent).containsExactly(50);
        assertThat(settleNew(s200, T0, 1)).isEmpty();
    }

    @Test
    void thresholdsRearmInANewCalendarWindow() {
        Slot may = month("team", T0, 100);
        assertThat(settleNew(may, T0, 60)).extracting(ThresholdCrossing::percent).containsExactly(50);
        Instant june = Instant.parse("2026-06-02T00:00:00Z");
        Slot juneSlot = month("team", june, 100);
        assertThat(juneSlot.window().key()).isNotEqualTo(may.window().key());
        assertThat(read(june, juneSlot)).isEqualTo(SlotState.EMPTY);
        assertThat(settleNew(juneSlot, june, 60)).extracting(ThresholdCrossing::percent).containsExactly(50);
        assertThat(read(june, may)).isEqualTo(state(60, 0, 0, 0));
    }

    @Test
    void aRollingThresholdRearmsOnceUsageRollsOffBelowIt() {
        Slot first = hour("team", T0, 100);
        assertThat(settleNew(first, T0, 60)).extracting(ThresholdCrossing::percent).containsExactly(50);
        Instant later = T0.plus(Duration.ofMinutes(61));
        Slot after = hour("team", later, 100);
        assertThat(settleNew(after, later, 10)).isEmpty();
        assertThat(settleNew(after, later, 45)).extracting(ThresholdCrossing::percent).containsExactly(50);
    }

    private List<ThresholdCrossing> settleNew(Slot s, Instant now, long tokens) {
        return settleNew(List.of(s), now, tokens);
    }

    private List<ThresholdCrossing> settleNew(List<Slot> slots, Instant now, long tokens) {
        String lease = nextLease();
        ReserveResult r = store.reserve(new ReserveCommand(tree, lease, now, now.plus(LONG_LEASE), slots, 0, 0));
        assertThat(r.admitted()).isTrue();
        SettleResult s = settle(lease, now, tokens, 0);
        assertThat(s.status()).isEqualTo(SettleResult.Status.SETTLED);
        return s.crossings();
    }

    // ---- rolling windows -------------------------------------------------------------------------

    @Test
    void rollingUsageCountsForItsLengthThenRollsOff() {
        Slot s = hour("team", T0, 1_000);
        String lease = admit(T0, 100, 0, s);
        settle(lease, T0, 100, 0);
        WindowRef w = s.window();
        Instant lastCounted = w.rollOffTime(w.bucket()).minusMillis(1);
        Instant rolledOff = w.rollOffTime(w.bucket());

        assertThat(read(T0.plus(Duration.ofMinutes(30)), hour("team", T0.plus(Duration.ofMinutes(30)), 1_000)))
                .isEqualTo(state(100, 0, 0, 0));
        assertThat(read(lastCounted, hour("team", lastCounted, 1_000))).isEqualTo(state(100, 0, 0, 0));
        assertThat(read(rolledOff, hour("team", rolledOff, 1_000))).isEqualTo(SlotState.EMPTY);
        ReserveResult r = reserve(nextLease(), rolledOff, LONG_LEASE, 1_000, 0, hour("team", rolledOff, 1_000));
        assertThat(r.admitted()).isTrue();
    }

    @Test
    void aRollingRefusalReportsThePerBucketUsageOfTheBindingDimension() {
        Slot first = hour("team", T0, 100);
        settle(admit(T0, 30, 0, first), T0, 30, 0);
        Instant t10 = T0.plus(Duration.ofMinutes(10));
        settle(admit(t10, 20, 5, hour("team", t10, 100)), t10, 20, 5);
        Instant t20 = T0.plus(Duration.ofMinutes(20));
        Slot now = hour("team", t20, 100);

        ReserveResult r = reserve(nextLease(), t20, LONG_LEASE, 50, 0, now);

        assertThat(r.admitted()).isFalse();
        assertThat(r.bindingDimension()).isEqualTo(Dimension.TOTAL);
        long[] buckets = r.bindingBuckets();
        assertThat(buckets).hasSize(WindowSpec.ROLLING_BUCKETS);
        long oldest = now.window().bucket() - WindowSpec.ROLLING_BUCKETS + 1;
        long[] expected = new long[WindowSpec.ROLLING_BUCKETS];
        expected[(int) (first.window().bucket() - oldest)] = 30;
        expected[(int) (hour("team", t10, 100).window().bucket() - oldest)] = 25;
        assertThat(buckets).containsExactly(expected);
        assertThat(r.states().get(0)).isEqualTo(state(50, 5, 0, 0));
    }

    @Test
    void aCalendarRefusalHasNoBuckets() {
        ReserveResult r = reserve(nextLease(), T0, LONG_LEASE, 101, 0, month("team", T0, 100));
        assertThat(r.admitted()).isFalse();
        assertThat(r.bindingBuckets()).isNull();
    }

    @Test
    void usageIsCountedInTheBucketOfItsReservation() {
        Slot s = hour("team", T0, 1_000);
        String lease = admit(T0, 10, 0, s);
        Instant settledAt = T0.plus(Duration.ofMinutes(5));
        settle(lease, settledAt, 10, 0);
        Instant justBeforeRollOff = s.window().rollOffTime(s.window().bucket()).minusMillis(1);
        Instant atRollOff = s.window().rollOffTime(s.window().bucket());
        assertThat(read(justBeforeRollOff, hour("team", justBeforeRollOff, 1_000)).used())
                .isEqualTo(TokenCounts.of(10, 0));
        assertThat(read(atRollOff, hour("team", atRollOff, 1_000))).isEqualTo(SlotState.EMPTY);
    }

    // ---- read ------------------------------------------------------------------------------------

    @Test
    void readOfAbsentWindowsIsEmpty() {
        Slot s = month("team", T0, 100);
        assertThat(store.read("absent-" + UUID.randomUUID(), List.of(s, hour("team", T0, 100)), T0))
                .containsExactly(SlotState.EMPTY, SlotState.EMPTY);
        admit(T0, 1, 1, s);
        assertThat(store.read(tree, List.of(month("other", T0, 100), s), T0))
                .containsExactly(SlotState.EMPTY, state(0, 0, 1, 1));
    }

    @Test
    void treesDoNotShareWindows() {
        Slot s = month("team", T0, 100);
        admit(T0, 100, 0, s);
        String other = "other-" + UUID.randomUUID().toString().substring(0, 8);
        ReserveResult r = store.reserve(new ReserveCommand(other, "x-1", T0, T0.plus(LONG_LEASE), List.of(s), 100,
                0));
        assertThat(r.admitted()).isTrue();
        store.settle(SettleCommand.release(other, "x-1", T0));
    }

    // ---- bad input -------------------------------------------------------------------------------

    @Test
    void absurdAmountsAreRefusedWithAClearError() {
        Slot s = month("team", T0, 100);
        assertThatThrownBy(() -> reserve(nextLease(), T0, LONG_LEASE, TokenCounts.MAX, 1, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2^53-1");
        assertThatThrownBy(() -> reserve(nextLease(), T0, LONG_LEASE, -1, 0, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("input=-1");
        assertThatThrownBy(() -> settle("x", T0, Long.MAX_VALUE, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("settle of lease x");
        Slot huge = month("team", T0, Limits.total(Long.MAX_VALUE / 2), Limits.total(100));
        assertThatThrownBy(() -> reserve(nextLease(), T0, LONG_LEASE, 1, 1, huge))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limits.total");
        assertThat(read(T0, s)).isEqualTo(SlotState.EMPTY);
    }

    // ---- a lower output ceiling: what a degraded request is sent with ------------------------------

    /** A total line at {@code total} tokens. */
    private static Limits line(long total) {
        return Limits.total(total);
    }

    protected ReserveResult reserveLower(long in, long out, long lower, List<Limits> lines, Slot... slots) {
        return store.reserve(new ReserveCommand(tree, nextLease(), T0, T0.plus(LONG_LEASE), List.of(slots), in, out,
                new LowerCeiling(lower, lines)));
    }

    @Test
    void anAdmittedRequestPastItsDegradeLineReservesOnlyTheLowerCeiling() {
        Slot s = month("team", T0, 100_000);
        settle(admit(T0, 89_000, 0, s), T0, 89_000, 0);
        ReserveResult r = reserveLower(500, 4_096, 1_024, List.of(line(90_000)), s);
        assertThat(r.admitted()).isTrue();
        assertThat(r.output()).isEqualTo(1_024);
        assertThat(r.fitted()).isFalse();
        assertThat(r.states()).containsExactly(state(89_000, 0, 500, 1_024));
    }

    @Test
    void belowItsDegradeLineWithTheLowerCeilingTheRequestReservesItsOwn() {
        Slot s = month("team", T0, 100_000);
        settle(admit(T0, 85_000, 0, s), T0, 85_000, 0);
        // 85,000 + 500 + 1,024 stays below the line; with 4,096 it would pass it, yet it is not sent with 1,024
        ReserveResult r = reserveLower(500, 4_096, 1_024, List.of(line(90_000)), s);
        assertThat(r.admitted()).isTrue();
        assertThat(r.output()).isEqualTo(4_096);
        assertThat(r.states()).containsExactly(state(85_000, 0, 500, 4_096));
    }

    @Test
    void aRequestItsCapRefusesIsAdmittedWithTheLowerCeilingThatFits() {
        Slot s = month("team", T0, 10_000);
        settle(admit(T0, 8_000, 500, s), T0, 8_000, 500);
        ReserveResult r = reserveLower(500, 4_096, 1_000, List.of(line(9_000)), s);
        assertThat(r.admitted()).isTrue();
        assertThat(r.output()).isEqualTo(1_000);
        assertThat(r.fitted()).isTrue();
        assertThat(read(T0, s)).isEqualTo(state(8_000, 500, 500, 1_000));

        // it fills the cap exactly: nothing is left for another
        ReserveResult over = reserveLower(0, 2, 1, List.of(line(9_000)), s);
        assertThat(over.admitted()).isFalse();
        assertThat(over.output()).isEqualTo(2);
        assertThat(over.room()).isZero();
    }

    @Test
    void whenTheLowerCeilingDoesNotFitEitherTheRefusalIsTheAskedOnes() {
        Slot s = month("team", T0, 10_000);
        settle(admit(T0, 9_000, 0, s), T0, 9_000, 0);
        ReserveResult r = reserveLower(500, 4_096, 1_024, List.of(line(9_000)), s);
        assertThat(r.admitted()).isFalse();
        assertThat(r.output()).isEqualTo(4_096);
        assertThat(r.fitted()).isFalse();
        assertThat(r.bindingDimension()).isEqualTo(Dimension.TOTAL);
        assertThat(r.room()).isEqualTo(1_000);
        assertThat(read(T0, s)).isEqualTo(state(9_000, 0, 0, 0));
    }

    @Test
    void theLineOfOneSlotLowersTheCeilingThatAnotherSlotsCapAdmits() {
        Slot team = month("team", T0, 100_000);
        Slot org = month("org", T0, 20_000);
        settle(admit(T0, 92_000, 0, team), T0, 92_000, 0);
        settle(admit(T0, 18_000, 0, org), T0, 18_000, 0);
        // org has room for 2,000: 4,096 does not fit there; team is past its line, so 1,024 goes
        ReserveResult r = reserveLower(100, 4_096, 1_024, List.of(line(90_000), LowerCeiling.NO_LINE), team, org);
        assertThat(r.admitted()).isTrue();
        assertThat(r.output()).isEqualTo(1_024);
        assertThat(r.fitted()).isTrue();
        assertThat(store.read(tree, List.of(team, org), T0)).containsExactly(state(92_000, 0, 100, 1_024),
                state(18_000, 0, 100, 1_024));

        // a line on the capped slot alone, not reached: the asked ceiling's refusal
        ReserveResult below = reserveLower(100, 4_096, 500, List.of(LowerCeiling.NO_LINE, line(19_900)), team, org);
        assertThat(below.admitted()).isFalse();
        assertThat(below.bindingSlot()).isEqualTo(1);
    }

    @Test
    void aLowerCeilingDrawsOnTheOverflowPoolForWhatItReservesOnly() {
        Slot org = pool(100_000, 1_000);
        Slot a = child("a", 10_000, true, -1);
        settle(admit(T0, 9_500, 0, a, org), T0, 9_500, 0);
        // own 500 left, pool 1,000: 4,096 is refused by the pool, 1,024 draws 524 from it
        ReserveResult r = reserveLower(0, 4_096, 1_024, List.of(line(9_000), LowerCeiling.NO_LINE), a, org);
        assertThat(r.admitted()).isTrue();
        assertThat(r.fitted()).isTrue();
        assertThat(r.uses()).singleElement().satisfies(u -> assertThat(u.pooled().total()).isEqualTo(524));
        assertThat(allocation(org, a).poolUsed().total()).isEqualTo(524);
    }

    @Test
    void aLowerCeilingMustBeLowerAndHaveALinePerSlot() {
        Slot s = month("team", T0, 100);
        assertThatThrownBy(() -> reserveLower(1, 10, 10, List.of(line(90)), s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("below the output reserved (10)");
        assertThatThrownBy(() -> reserveLower(1, 10, 5, List.of(), s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one line per slot");
        assertThatThrownBy(() -> reserveLower(1, 10, 5, List.of(Limits.total(Long.MAX_VALUE / 2)), s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("degrade line.total");
    }

    // ---- allocation: pools, holds, rebalances, ledger ---------------------------------------------

    /** A pool window of {@code org} with cap {@code cap}, unallocated headroom and config holds. */
    protected static Slot pool(long cap, long headroom, Hold... holds) {
        return month("org", T0, cap).withAllocation(SlotAllocation.pool(new TokenCounts(0, 0, headroom),
                List.of(holds)));
    }

    /** A child window linked to the pool at slot 1, overflowing with {@code overflowCap} (-1: none) or isolated. */
    protected static Slot child(String budget, long cap, boolean overflow, long overflowCap) {
        Limits oc = overflowCap < 0 ? new Limits(Limits.NONE, Limits.NONE, Limits.NONE) : Limits.total(overflowCap);
        return month(budget, T0, cap).withAllocation(SlotAllocation.child(1, overflow, oc));
    }

    /** What a rebalance entry moved (its budget's allocation before less after), per dimension. */
    public static TokenCounts given(LedgerEntry e) {
        Map<String, Long> b = e.change().before();
        Map<String, Long> a = e.change().after();
        return new TokenCounts(b.getOrDefault("input", 0L) - a.getOrDefault("input", 0L),
                b.getOrDefault("output", 0L) - a.getOrDefault("output", 0L),
                b.getOrDefault("total", 0L) - a.getOrDefault("total", 0L));
    }

    @Test
    void appendedChangesAreNumberedPerTreeAndRecordedOnceByIdempotencyKey() {
        LedgerChange change = new LedgerChange(LedgerChange.Kind.LIMITS_CHANGED, "team", "month",
                Map.of("total", 100L), Map.of("total", 200L), "admin-api 127.0.0.1", "launch", "limits:1");
        LedgerEntry first = store.appendLedger(tree, T0, change);
        assertThat(first.seq()).isEqualTo(1);
        assertThat(first.change()).isEqualTo(change);
        assertThat(store.appendLedger(tree, T0.plusSeconds(5), change)).isEqualTo(first);
        LedgerChange other = new LedgerChange(LedgerChange.Kind.LIMITS_CHANGED, "team", null, Map.of(), Map.of(),
                "cli", null, null);
        assertThat(store.appendLedger(tree, T0.plusSeconds(9), other).seq()).isEqualTo(2);
        assertThat(store.ledger(tree, 0, 10).entries()).extracting(LedgerEntry::change).containsExactly(change, other);
        assertThat(store.ledger("no-ledger-" + UUID.randomUUID(), 0, 10)).isEqualTo(new LedgerPage(List.of(), 0));
    }

    private static long pooledTotal(ReserveResult r) {
        return r.uses().stream().mapToLong(u -> u.pooled().total()).sum();
    }

    private static long heldTotal(ReserveResult r) {
        return r.uses().stream().mapToLong(u -> u.held().total()).sum();
    }

    private AllocationState allocation(Slot parent, Slot... children) {
        return store.readAllocation(tree, parent, List.of(children), T0);
    }

    @Test
    void anOverflowingChildDrawsFromThePoolOnlyPastItsOwnCap() {
        Slot org = pool(1_000, 100);
        Slot a = child("a", 50, true, -1);
        ReserveResult own = reserve(nextLease(), T0, LONG_LEASE, 40, 0, a, org);
        assertThat(own.admitted()).isTrue();
        assertThat(own.uses()).isEmpty();

        ReserveResult drawn = reserve(nextLease(), T0, LONG_LEASE, 30, 0, a, org);
        assertThat(drawn.admitted()).isTrue();
        assertThat(drawn.uses()).singleElement().satisfies(u -> {
            assertThat(u.slot()).isZero();
            assertThat(u.pooled()).isEqualTo(new TokenCounts(0, 0, 20));
        });
        AllocationState st = allocation(org, a);
        assertThat(st.poolUsed()).isEqualTo(new TokenCounts(0, 0, 20));
        assertThat(st.draws()).containsExactly(new TokenCounts(0, 0, 20));

        // own 50 + pool 100 − committed 70 = 80 left: 81 is refused by the pool, all or nothing
        ReserveResult refused = reserve(nextLease(), T0, LONG_LEASE, 81, 0, a, org);
        assertThat(refused.admitted()).isFalse();
        assertThat(refused.bindingSlot()).isZero();
        assertThat(refused.cause()).isEqualTo(BindingCause.POOL);
        assertThat(refused.room()).isEqualTo(80);
        assertThat(allocation(org, a).poolUsed().total()).isEqualTo(20);
        assertThat(reserve(nextLease(), T0, LONG_LEASE, 80, 0, a, org).admitted()).isTrue();
        assertThat(allocation(org, a).poolUsed().total()).isEqualTo(100);
    }

    @Test
    void theOverflowCapBindsBeforeThePool() {
        Slot org = pool(1_000, 100);
        Slot a = child("a", 50, true, 30);
        admit(T0, 80, 0, a, org);
        ReserveResult r = reserve(nextLease(), T0, LONG_LEASE, 1, 0, a, org);
        assertThat(r.admitted()).isFalse();
        assertThat(r.cause()).isEqualTo(BindingCause.OVERFLOW_CAP);
        assertThat(r.room()).isZero();
    }

    @Test
    void anIsolatedChildNeverDrawsButIsStillMirroredAndCapped() {
        Slot org = pool(1_000, 100);
        Slot a = child("a", 50, false, -1);
        admit(T0, 50, 0, a, org);
        ReserveResult r = reserve(nextLease(), T0, LONG_LEASE, 1, 0, a, org);
        assertThat(r.admitted()).isFalse();
        assertThat(r.cause()).isEqualTo(BindingCause.CAP);
        assertThat(allocation(org, a).poolUsed()).isEqualTo(TokenCounts.ZERO);
    }

    @Test
    void drawsFollowSettlementsReleasesAndExpiredLeases() {
        Slot org = pool(1_000, 100);
        Slot a = child("a", 50, true, -1);
        settle(admit(T0, 40, 0, a, org), T0, 40, 0);
        String settledLow = admit(T0, 30, 0, a, org);
        String released = admit(T0, 10, 0, a, org);
        assertThat(allocation(org, a).poolUsed().total()).isEqualTo(30);

        settle(settledLow, T0, 5, 0);
        assertThat(allocation(org, a).poolUsed().total()).isEqualTo(5);
        release(released, T0);
        assertThat(allocation(org, a).poolUsed().total()).isZero();
        assertThat(allocation(org, a).draws()).containsExactly(TokenCounts.ZERO);

        // used 45; settled above its reservation, a lease still moves the draw to what was used
        String over = admit(T0, 20, 0, a, org);
        settle(over, T0, 30, 0);
        assertThat(allocation(org, a).poolUsed().total()).isEqualTo(25);

        admitShort(15, 0, a, org);
        assertThat(allocation(org, a).poolUsed().total()).isEqualTo(40);
        Instant later = pastShortLease();
        store.expireLeases(later);
        assertThat(store.readAllocation(tree, org, List.of(a), later).poolUsed().total()).isEqualTo(40);
        assertThat(store.read(tree, List.of(a, org), later)).containsOnly(state(90, 0, 0, 0));
    }

    @Test
    void aHoldKeepsTokensFromOthersButNotFromItsBeneficiary() {
        Hold forB = new Hold("for-b", "b", new TokenCounts(0, 0, 60), T0.plus(Duration.ofDays(1)));
        Slot org = pool(100, 0, forB);
        Slot a = child("a", 100, false, -1);
        Slot b = child("b", 100, false, -1);

        ReserveResult refused = reserve(nextLease(), T0, LONG_LEASE, 41, 0, a, org);
        assertThat(refused.admitted()).isFalse();
        assertThat(refused.bindingSlot()).isEqualTo(1);
        assertThat(refused.cause()).isEqualTo(BindingCause.HOLD);
        assertThat(refused.room()).isEqualTo(40);

        ReserveResult forItself = reserve(nextLease(), T0, LONG_LEASE, 50, 0, b, org);
        assertThat(forItself.admitted()).isTrue();
        assertThat(heldTotal(forItself)).isEqualTo(50);
        assertThat(forItself.uses()).singleElement().extracting(AllocationUse::slot).isEqualTo(1);

        // b consumed 50 of its 60: 10 stay held; a has 100 − 50 − 10 = 40
        assertThat(reserve(nextLease(), T0, LONG_LEASE, 41, 0, a, org).cause()).isEqualTo(BindingCause.HOLD);
        assertThat(reserve(nextLease(), T0, LONG_LEASE, 40, 0, a, org).admitted()).isTrue();
    }

    @Test
    void aHoldThatEndedKeepsNothing() {
        Instant end = T0.plus(Duration.ofHours(1));
        Slot org = pool(100, 0, new Hold("later", null, new TokenCounts(0, 0, 60), end));
        Slot a = child("a", 100, false, -1);
        assertThat(reserve(nextLease(), T0, LONG_LEASE, 41, 0, a, org).cause()).isEqualTo(BindingCause.HOLD);
        ReserveResult after = store.reserve(new ReserveCommand(tree, nextLease(), end, end.plus(LONG_LEASE),
                List.of(a, org), 100, 0));
        assertThat(after.admitted()).isTrue();
        assertThat(after.uses()).isEmpty();
    }

    @Test
    void runTimeHoldsAreStoredEnforcedAndRecordedOnce() {
        Slot org = pool(100, 0);
        Slot a = child("a", 100, false, -1);
        Slot b = child("b", 100, false, -1);
        Hold h = new Hold("h-1", "b", new TokenCounts(0, 0, 70), T0.plus(Duration.ofDays(2)));
        HoldCommand.Result made = store.changeHold(new HoldCommand(tree, T0, org, h, false, "alice", "launch"));
        assertThat(made.changed()).isTrue();
        assertThat(made.entry()).satisfies(e -> {
            assertThat(e.seq()).isEqualTo(1);
            assertThat(e.at()).isEqualTo(T0);
            assertThat(e.change()).isEqualTo(new LedgerChange(LedgerChange.Kind.RESERVATION_CREATED, "b",
                    org.window().key(), Map.of(), Map.of("total", 70L), "alice", "launch", "reservation:h-1:created"));
        });
        assertThat(store.changeHold(new HoldCommand(tree, T0, org, h, false, "alice", "again")).changed()).isFalse();
        assertThat(allocation(org, a, b).holds()).containsExactly(h);

        assertThat(reserve(nextLease(), T0, LONG_LEASE, 31, 0, a, org).cause()).isEqualTo(BindingCause.HOLD);
        assertThat(heldTotal(reserve(nextLease(), T0, LONG_LEASE, 20, 0, b, org))).isEqualTo(20);

        HoldCommand.Result gone = store.changeHold(new HoldCommand(tree, T0, org, h, true, "bob", "cancelled"));
        assertThat(gone.changed()).isTrue();
        assertThat(gone.entry().change()).isEqualTo(new LedgerChange(LedgerChange.Kind.RESERVATION_CANCELLED, "b",
                org.window().key(), Map.of("total", 70L), Map.of(), "bob", "cancelled", "reservation:h-1:cancelled"));
        assertThat(store.changeHold(new HoldCommand(tree, T0, org, h, true, "bob", "again")).changed()).isFalse();
        assertThat(allocation(org, a, b).holds()).isEmpty();
        assertThat(reserve(nextLease(), T0, LONG_LEASE, 80, 0, a, org).admitted()).isTrue();
        assertThat(store.ledger(tree, 0, 10).entries()).extracting(LedgerEntry::seq).containsExactly(1L, 2L);
        assertThat(store.ledger(tree, 1, 10).entries()).extracting(e -> e.change().kind())
                .containsExactly(LedgerChange.Kind.RESERVATION_CANCELLED);
        assertThat(store.ledger(tree, 0, 1).entries()).hasSize(1);
        assertThat(store.ledger(tree, 0, 1).lastSeq()).isEqualTo(2);
    }

    @Test
    void aRunTimeHoldEndsAtItsUntil() {
        Slot org = pool(100, 0);
        Slot a = child("a", 100, false, -1);
        Instant until = T0.plus(Duration.ofHours(3));
        store.changeHold(new HoldCommand(tree, T0, org, new Hold("h", null, new TokenCounts(0, 0, 90), until), false,
                "ops", "maintenance"));
        assertThat(reserve(nextLease(), T0, LONG_LEASE, 11, 0, a, org).cause()).isEqualTo(BindingCause.HOLD);
        assertThat(store.readAllocation(tree, org, List.of(a), until).holds()).isEmpty();
        assertThat(store.reserve(new ReserveCommand(tree, nextLease(), until, until.plus(LONG_LEASE), List.of(a, org),
                100, 0)).admitted()).isTrue();
    }

    @Test
    void aRebalanceMovesUnusedAllocationIntoThePoolOnce() {
        Slot org = pool(1_000, 0);
        Slot a = child("a", 100, false, -1);
        Slot b = child("b", 100, true, -1);
        settle(admit(T0, 20, 0, a, org), T0, 20, 0);
        settle(admit(T0, 80, 0, b, org), T0, 80, 0);
        RebalanceCommand cmd = new RebalanceCommand(tree, T0, month("org", T0, 1_000),
                List.of(month("a", T0, 100), month("b", T0, 100)), 50, 50, 30, "mid-month");

        RebalanceCommand.Result first = store.rebalance(cmd);
        assertThat(first.claimed()).isTrue();
        // a is at 20% (< 50%): half of its unused 80 is 40, capped at 30% of 100 = 30; b at 80% gives nothing
        assertThat(first.moves()).singleElement().satisfies(e -> {
            assertThat(e.at()).isEqualTo(T0);
            assertThat(e.change()).isEqualTo(new LedgerChange(LedgerChange.Kind.REBALANCE, "a", org.window().key(),
                    Map.of("total", 100L), Map.of("total", 70L), "rebalance",
                    "mid-month; total: 20 of 100 used or reserved, 80 unused", "rebalance:" + org.key() + ":a"));
            assertThat(given(e)).isEqualTo(new TokenCounts(0, 0, 30));
        });
        RebalanceCommand.Result second = store.rebalance(cmd);
        assertThat(second.claimed()).isFalse();
        assertThat(second.moves()).isEmpty();
        assertThat(store.ledger(tree, 0, 10).entries()).hasSize(1);

        AllocationState st = allocation(org, a, b);
        assertThat(st.rebalanced()).isTrue();
        assertThat(st.contributions()).isEqualTo(new TokenCounts(0, 0, 30));
        assertThat(st.given()).containsExactly(new TokenCounts(0, 0, 30), TokenCounts.ZERO);

        // a's own cap is now 70 (50 left); b draws the 30 past its own 100
        ReserveResult aTooMuch = reserve(nextLease(), T0, LONG_LEASE, 51, 0, a, org);
        assertThat(aTooMuch.cause()).isEqualTo(BindingCause.CAP);
        assertThat(aTooMuch.room()).isEqualTo(50);
        assertThat(pooledTotal(reserve(nextLease(), T0, LONG_LEASE, 50, 0, b, org))).isEqualTo(30);
        assertThat(reserve(nextLease(), T0, LONG_LEASE, 1, 0, b, org).cause()).isEqualTo(BindingCause.POOL);
        assertThat(allocation(org, a, b).poolUsed().total()).isEqualTo(30);
    }

    @Test
    void concurrentRebalancesAreClaimedOnce() throws Exception {
        Slot org = pool(1_000, 0);
        settle(admit(T0, 10, 0, child("a", 100, false, -1), org), T0, 10, 0);
        RebalanceCommand cmd = new RebalanceCommand(tree, T0, month("org", T0, 1_000), List.of(month("a", T0, 100)),
                50, 50, 30, "race");
        AtomicLong claimed = new AtomicLong();
        runConcurrently(8, t -> {
            if (store.rebalance(cmd).claimed()) {
                claimed.incrementAndGet();
            }
        });
        assertThat(claimed).hasValue(1);
        assertThat(store.ledger(tree, 0, 10).entries()).hasSize(1);
        assertThat(allocation(org).contributions().total()).isEqualTo(30);
    }

    @Test
    void concurrentOverflowingChildrenNeverDrawMoreThanThePoolHolds() throws Exception {
        int threads = 8;
        int rounds = concurrencyRounds() / 4;
        Slot org = pool(1_000_000, 300);
        Slot[] kids = {child("a", 100, true, -1), child("b", 100, true, 150), child("c", 100, false, -1)};
        AtomicLong settled = new AtomicLong();
        runConcurrently(threads, t -> {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            Slot k = kids[t % kids.length];
            for (int i = 0; i < rounds; i++) {
                String lease = "p-" + t + "-" + i;
                long in = rnd.nextLong(1, 30);
                ReserveResult r = reserve(lease, T0, LONG_LEASE, in, 0, k, org);
                if (!r.admitted()) {
                    continue;
                }
                if (rnd.nextInt(3) == 0) {
                    release(lease, T0);
                } else if (rnd.nextInt(4) > 0) {
                    long actual = rnd.nextLong(0, in + 1);
                    settle(lease, T0, actual, 0);
                    settled.addAndGet(actual);
                } else {
                    settle(lease, T0, in, 0);
                    settled.addAndGet(in);
                }
            }
        });
        AllocationState st = allocation(org, kids);
        List<SlotState> states = store.read(tree, List.of(kids[0], kids[1], kids[2], org), T0);
        long drawn = 0;
        for (int i = 0; i < 3; i++) {
            long used = states.get(i).used().total();
            long expectedDraw = kids[i].allocation().overflow() ? Math.max(0, used - 100) : 0;
            assertThat(st.draws().get(i).total()).as("draw of %s", kids[i].budgetId()).isEqualTo(expectedDraw);
            drawn += expectedDraw;
        }
        assertThat(st.poolUsed().total()).isEqualTo(drawn).isLessThanOrEqualTo(300);
        assertThat(st.draws().get(1).total()).isLessThanOrEqualTo(150);
        assertThat(states.get(2).used().total()).isLessThanOrEqualTo(100);
        assertThat(states.get(3).used().total()).isEqualTo(settled.get());
        assertThat(states.get(3).reserved()).isEqualTo(TokenCounts.ZERO);
    }

    @Test
    void aSlotLinkedToANonPoolIsRefusedWithAClearError() {
        Slot bad = month("a", T0, 100).withAllocation(SlotAllocation.child(1, true,
                new Limits(Limits.NONE, Limits.NONE, Limits.NONE)));
        assertThatThrownBy(() -> reserve(nextLease(), T0, LONG_LEASE, 1, 0, bad, month("org", T0, 100)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keeps a pool");
        Slot rolling = hour("a", T0, 100).withAllocation(SlotAllocation.pool(TokenCounts.ZERO, List.of()));
        assertThatThrownBy(() -> reserve(nextLease(), T0, LONG_LEASE, 1, 0, rolling))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rolling window");
    }

    // ---- bad input: counters saturate --------------------------------------------------------

    @Test
    void settledUsageSaturatesAt2Pow53Minus1InsteadOfWrapping() {
        // an alert-only budget admits whatever was settled before: repeated maximal settlements
        // (a lying upstream) must leave every counter at 2^53-1, never past it or negative
        Slot s = month("team", T0, Limits.total(100), new Limits(Limits.NONE, Limits.NONE, Limits.NONE));
        long half = TokenCounts.MAX / 2;
        for (int i = 0; i < 3; i++) {
            String lease = nextLease();
            assertThat(reserve(lease, T0, LONG_LEASE, 1, 1, s).admitted()).isTrue();
            settle(lease, T0, half + 1, half);
        }
        assertThat(read(T0, s).used()).isEqualTo(new TokenCounts(TokenCounts.MAX, TokenCounts.MAX, TokenCounts.MAX));
        assertThat(read(T0, s).reserved()).isEqualTo(TokenCounts.ZERO);
    }

    // ---- concurrency -----------------------------------------------------------------------------

    @Test
    void concurrentReservationsNeverExceedTheCapAndSettlementsAreConserved() throws Exception {
        int threads = 16;
        int rounds = concurrencyRounds();
        long cap = threads * rounds * 20L;
        Slot child = month("team", T0, cap / 2);
        Slot parent = month("org", T0, cap);
        Slot rolling = hour("org", T0, cap);
        AtomicLong settledIn = new AtomicLong();
        AtomicLong settledOut = new AtomicLong();
        AtomicLong admitted = new AtomicLong();
        AtomicLong overCap = new AtomicLong();
        runConcurrently(threads, t -> {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            for (int i = 0; i < rounds; i++) {
                String lease = "c-" + t + "-" + i;
                long in = rnd.nextLong(1, 40);
                long out = rnd.nextLong(1, 40);
                ReserveResult r = reserve(lease, T0, LONG_LEASE, in, out, child, parent, rolling);
                if (!r.admitted()) {
                    continue;
                }
                admitted.incrementAndGet();
                if (r.states().get(0).committed().total() > cap / 2 || r.states().get(1).committed().total() > cap) {
                    overCap.incrementAndGet();
                }
                if (rnd.nextInt(5) == 0) {
                    assertThat(release(lease, T0).status()).isEqualTo(SettleResult.Status.RELEASED);
                } else {
                    long ai = rnd.nextLong(0, in + 1);
                    long ao = rnd.nextLong(0, out + 1);
                    assertThat(settle(lease, T0, ai, ao).status()).isEqualTo(SettleResult.Status.SETTLED);
                    settledIn.addAndGet(ai);
                    settledOut.addAndGet(ao);
                }
            }
        });
        assertThat(overCap).hasValue(0);
        assertThat(admitted.get()).isPositive();
        SlotState expected = state(settledIn.get(), settledOut.get(), 0, 0);
        assertThat(store.read(tree, List.of(child, parent, rolling), T0)).containsOnly(expected);
        assertThat(expected.used().total()).isLessThanOrEqualTo(cap / 2);
    }

    @Test
    void concurrentReservationsAgainstAFullCapAdmitExactlyWhatFits() throws Exception {
        int threads = 16;
        int rounds = concurrencyRounds() / 4;
        long cap = 1_000;
        Slot s = month("team", T0, cap);
        AtomicLong admittedTokens = new AtomicLong();
        runConcurrently(threads, t -> {
            for (int i = 0; i < rounds; i++) {
                String lease = "f-" + t + "-" + i;
                if (reserve(lease, T0, LONG_LEASE, 3, 4, s).admitted()) {
                    admittedTokens.addAndGet(7);
                    settle(lease, T0, 3, 4);
                }
            }
        });
        // every reservation was settled at its full amount, so used is exactly what was admitted
        assertThat(admittedTokens.get()).isEqualTo(cap / 7 * 7);
        assertThat(read(T0, s)).isEqualTo(state(cap / 7 * 3, cap / 7 * 4, 0, 0));
    }

    @Test
    void concurrentSettlesOfTheSameLeaseApplyItOnce() throws Exception {
        Slot s = month("team", T0, 1_000_000);
        int leases = Math.max(20, concurrencyRounds() / 10);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < leases; i++) {
            ids.add(admit(T0, 10, 10, s));
        }
        Map<String, AtomicLong> applied = new ConcurrentHashMap<>();
        runConcurrently(8, t -> {
            for (String id : ids) {
                SettleResult r = t % 2 == 0 ? settle(id, T0, 7, 3) : release(id, T0);
                if (r.status() != SettleResult.Status.UNKNOWN_LEASE) {
                    applied.computeIfAbsent(id, k -> new AtomicLong()).incrementAndGet();
                }
            }
        });
        assertThat(applied).hasSize(leases);
        assertThat(applied.values()).allMatch(a -> a.get() == 1);
        SlotState st = read(T0, s);
        assertThat(st.reserved()).isEqualTo(TokenCounts.ZERO);
        assertThat(st.used().input() % 7).isZero();
        assertThat(st.used().input() / 7).isEqualTo(st.used().output() / 3).isLessThanOrEqualTo(leases);
    }

    // ---- run-time limit changes, shared by every engine on the store -----------------------------

    @Test
    void limitChangesAreReadBackTheLatestPerWindowWithRisingVersions() {
        String b = tree();
        long v0 = store.limitOverrides(0).version();
        assertThat(store.limitOverrides(v0).overrides()).isEmpty();

        long v1 = store.saveLimits(new LimitOverride(b, "month", Limits.total(1000), Limits.total(500), 0));
        long v2 = store.saveLimits(new LimitOverride(b, "day", Limits.total(100), new Limits(40, 30, Limits.NONE), 0));
        long v3 = store.saveLimits(new LimitOverride(b, "month", Limits.total(1000), Limits.total(700), 0));
        assertThat(v1).isGreaterThan(v0);
        assertThat(v2).isGreaterThan(v1);
        assertThat(v3).isGreaterThan(v2);

        LimitOverrides all = store.limitOverrides(v0);
        assertThat(all.version()).isEqualTo(v3);
        List<LimitOverride> mine = all.overrides().stream().filter(o -> o.budgetId().equals(b)).toList();
        assertThat(mine).containsExactlyInAnyOrder(
                new LimitOverride(b, "month", Limits.total(1000), Limits.total(700), v3),
                new LimitOverride(b, "day", Limits.total(100), new Limits(40, 30, Limits.NONE), v2));
        // a reader that has applied the newest sees nothing new, and learns the version
        LimitOverrides none = store.limitOverrides(v3);
        assertThat(none.overrides()).isEmpty();
        assertThat(none.version()).isEqualTo(v3);
    }

    /** A body run by one worker thread, given its index. */
    public interface Worker {
        void run(int thread) throws Exception;
    }

    /** Runs {@code worker} on {@code threads} threads started together; rethrows the first failure. */
    public static void runConcurrently(int threads, Worker worker) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int index = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    worker.run(index);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdown();
            pool.awaitTermination(1, TimeUnit.MINUTES);
        }
    }
}
