package dev.tokenbudget.engine;

import dev.tokenbudget.budget.FailMode;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.testing.Poll;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.LimitOverride;
import dev.tokenbudget.store.LimitOverrides;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.StoreUnavailableException;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.tokenbudget.engine.EngineFixture.sha;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RollingAndIdentityTest {

    @Test
    void rollingWindowUsageRollsOffAfterItsLengthAndRetryAfterSaysWhen() {
        String yaml = """
                budgets:
                  - id: r
                    windows: [{ period: rolling, length: 24h, limits: { total: 1000 } }]
                keys: [{ name: k, sha256: %s, budget: r }]
                """.formatted(sha("k"));
        EngineFixture f = new EngineFixture(yaml);
        f.engine.settle(f.reserve("k", null, 300, 300), TokenUsage.of(300, 300)); // at t0
        f.clock.advance(Duration.ofHours(6));
        f.engine.settle(f.reserve("k", null, 150, 150), TokenUsage.of(150, 150)); // at t0+6h
        Ticket refused = f.reserve("k", null, 100, 100); // 900 + 200 > 1000
        assertThat(refused.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        // the first 600 must roll off: their bucket leaves the window about 24h after t0, i.e. ~18h from now
        long retry = refused.decision().retryAfterSeconds();
        assertThat(retry).isBetween(Duration.ofHours(18).toSeconds() - 1500, Duration.ofHours(18).toSeconds() + 1500);
        f.clock.advance(Duration.ofSeconds(retry - 60));
        assertThat(f.reserve("k", null, 100, 100).decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        f.clock.advance(Duration.ofSeconds(60));
        Ticket later = f.reserve("k", null, 100, 100);
        assertThat(later.decision().outcome()).isEqualTo(Decision.Outcome.ALLOW);
        assertThat(f.usedTotal("r")).isEqualTo(300); // only the second request is still in the window
    }

    private static final String USERS = """
            budgets:
              - id: tenant
                windows: [{ period: month, limits: { total: 1M } }]
            keys:
              - name: app
                sha256: %s
                budget: tenant
                windows: [{ period: day, limits: { total: 5000 } }]
                user_windows: [{ period: day, limits: { total: 1000 } }]
            """.formatted(sha("app-key"));

    @Test
    void perUserAndPerKeyBudgetsAreChargedOnThePath() {
        EngineFixture f = new EngineFixture(USERS);
        var key = f.key("app-key");
        Ticket alice = f.engine.reserve(new BudgetRequest(key, null, "alice", "m", 500, 400));
        assertThat(alice.budgetIds()).containsExactly("user:app:alice", "key:app", "tenant");
        f.engine.settle(alice, TokenUsage.of(500, 400));
        // alice has 100 left today; bob is untouched
        Ticket alice2 = f.engine.reserve(new BudgetRequest(key, null, "alice", "m", 100, 100));
        assertThat(alice2.decision().reason()).isEqualTo(Decision.Reason.BUDGET_EXHAUSTED);
        assertThat(alice2.decision().bindingBudget()).isEqualTo("user:app:alice");
        Ticket bob = f.engine.reserve(new BudgetRequest(key, null, "bob", "m", 100, 100));
        assertThat(bob.decision().admitted()).isTrue();
        assertThat(f.usedTotal("key:app")).isEqualTo(900);
        // a user id that could inject headers or explode keys is refused
        Ticket bad = f.engine.reserve(new BudgetRequest(key, null, "a\nb", "m", 1, 1));
        assertThat(bad.decision().reason()).isEqualTo(Decision.Reason.INVALID_REQUEST);
        assertThat(bad.decision().httpStatus()).isEqualTo(400);
    }

    /** A store that fails on demand: fault injection for the fail modes. */
    private static final class FlakyStore implements BudgetStore {
        final InMemoryBudgetStore inner = new InMemoryBudgetStore();
        final AtomicBoolean down = new AtomicBoolean();

        private void check() {
            if (down.get()) {
                throw new StoreUnavailableException("connection refused (injected)", null);
            }
        }

        @Override
        public Set<Capability> capabilities() {
            return Set.of(Capability.SHARED);
        }

        @Override
        public ReserveResult reserve(ReserveCommand c) {
            check();
            return inner.reserve(c);
        }

        @Override
        public SettleResult settle(SettleCommand c) {
            check();
            return inner.settle(c);
        }

        @Override
        public List<SlotState> read(String treeId, List<Slot> slots, Instant now) {
            return inner.read(treeId, slots, now);
        }

        @Override
        public List<LeaseExpiry> expireLeases(Instant now) {
            check();
            return inner.expireLeases(now);
        }

        @Override
        public long saveLimits(LimitOverride change) {
            check();
            return inner.saveLimits(change);
        }

        @Override
        public LimitOverrides limitOverrides(long knownVersion) {
            check();
            return inner.limitOverrides(knownVersion);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void whenTheStoreFailsOpenBudgetsAdmitUncountedAndClosedOnesReject() {
        String yaml = """
                budgets:
                  - id: org
                    windows: [{ period: month, limits: { total: 1M } }]
                  - id: open-team
                    parent: org
                    windows: [{ period: month, limits: { total: 1000 } }]
                  - id: closed-team
                    parent: org
                    on_store_failure: closed
                    windows: [{ period: month, limits: { total: 1000 } }]
                keys:
                  - { name: o, sha256: %s, budget: open-team }
                  - { name: c, sha256: %s, budget: closed-team }
                """.formatted(sha("o"), sha("c"));
        FlakyStore store = new FlakyStore();
        EngineFixture f = new EngineFixture(yaml, store);
        Ticket before = f.reserve("o", null, 100, 100);
        store.down.set(true);
        Ticket open = f.reserve("o", null, 100, 100);
        Ticket closed = f.reserve("c", null, 100, 100);
        assertThat(open.decision().outcome()).isEqualTo(Decision.Outcome.ALLOW);
        assertThat(open.decision().reason()).isEqualTo(Decision.Reason.STORE_FAIL_OPEN);
        assertThat(open.accounted()).isFalse();
        assertThat(closed.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(closed.decision().reason()).isEqualTo(Decision.Reason.STORE_UNAVAILABLE);
        assertThat(closed.decision().httpStatus()).isEqualTo(503);
        assertThat(f.events(BudgetEvent.StoreFailure.class)).extracting(BudgetEvent.StoreFailure::applied)
                .containsExactly(FailMode.OPEN, FailMode.CLOSED);
        f.events.clear();
        // a sweep while the store is down is reported, not thrown at the host's scheduler
        assertThat(f.engine.expireLeases()).isZero();
        assertThat(f.events(BudgetEvent.StoreFailure.class)).singleElement()
                .satisfies(e -> assertThat(e.operation()).isEqualTo("expire-leases"));
        // settling the pre-outage ticket fails now: the engine sends it again until the store takes it
        assertThat(f.engine.settle(before, TokenUsage.of(50, 50))).isEqualTo(SettleResult.Status.PENDING);
        assertThat(f.engine.pendingSettles()).isEqualTo(2); // and the refused reservation's release
        store.down.set(false);
        assertThat(f.engine.settle(open, TokenUsage.of(100, 100))).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        Poll.await("the retried settle and release", Duration.ofSeconds(10), () -> f.engine.pendingSettles() == 0);
        f.clock.advance(Duration.ofMinutes(11));
        f.engine.expireLeases();
        // counted exactly once, at what the provider reported: the pre-outage request (100), nothing
        // for the uncounted request, and no expiry charge for a lease already settled
        assertThat(f.usedTotal("open-team")).isEqualTo(100);
        assertThat(f.usedTotal("org")).isEqualTo(100);
        assertThat(f.events(BudgetEvent.LeaseExpired.class)).isEmpty();
    }

    @Test
    void aSettleTheStoreNeverTookBeforeTheLeaseExpiredIsChargedAtItsReservationOnce() {
        String yaml = """
                budgets:
                  - id: org
                    windows: [{ period: month, limits: { total: 1M } }]
                keys:
                  - { name: o, sha256: %s, budget: org }
                """.formatted(sha("o"));
        FlakyStore store = new FlakyStore();
        EngineFixture f = new EngineFixture(yaml, store);
        Ticket t = f.reserve("o", null, 100, 100);
        store.down.set(true);
        assertThat(f.engine.settle(t, TokenUsage.of(50, 50))).isEqualTo(SettleResult.Status.PENDING);
        f.clock.advance(Duration.ofMinutes(11));
        store.down.set(false);
        // the retry sees the lease has expired and gives up; the sweep charges the reservation
        Poll.await("the expired retry dropped", Duration.ofSeconds(10), () -> f.engine.pendingSettles() == 0);
        f.engine.expireLeases();
        assertThat(f.usedTotal("org")).isEqualTo(200);
        assertThat(f.events(BudgetEvent.LeaseExpired.class)).singleElement()
                .satisfies(e -> assertThat(e.leaseId()).isEqualTo(t.leaseId()));
    }

    @Test
    void aLimitChangeTheStoreCannotSaveChangesNothing() {
        String yaml = """
                budgets:
                  - id: org
                    windows: [{ period: month, limits: { total: 1000 } }]
                keys:
                  - { name: o, sha256: %s, budget: org }
                """.formatted(sha("o"));
        FlakyStore store = new FlakyStore();
        EngineFixture f = new EngineFixture(yaml, store);
        store.down.set(true);
        assertThatThrownBy(() -> f.engine.updateLimits("org", "month", Limits.total(10)))
                .isInstanceOf(StoreUnavailableException.class);
        assertThatThrownBy(f.engine::syncLimits).isInstanceOf(StoreUnavailableException.class);
        store.down.set(false);
        assertThat(f.engine.status("org").orElseThrow().windows().get(0).limits().total()).isEqualTo(1000);
        assertThat(f.events(BudgetEvent.LimitsChanged.class)).isEmpty();
        assertThat(f.reserve("o", null, 100, 100).decision().outcome()).isEqualTo(Decision.Outcome.ALLOW);
    }
}
