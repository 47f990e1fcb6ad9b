package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.store.AbstractBudgetStoreTest;
import dev.tokenbudget.store.BindingCause;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.tokenbudget.engine.EngineFixture.sha;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scenario of issue 9, executable: a workspace with 1B tokens a month allots support 400M,
 * marketing 300M, internal 200M and experiments 100M. At mid-month internal is at 30% and support
 * at 95%; the rebalance moves part of internal's unused allocation into the workspace's pool,
 * support goes on on pool tokens, no cap is passed, and the ledger balances. Every store runs it.
 */
public abstract class AbstractAllocationScenarioTest {

    protected static final long M = 1_000_000;
    /** 1 May 2026, 00:00 UTC: May has 31 days, so mid-month is 16 May, 12:00. */
    protected static final Instant MAY_1 = Instant.parse("2026-05-01T00:00:00Z");
    protected static final Instant MID_MAY = Instant.parse("2026-05-16T12:00:00Z");

    protected static String config(String store) {
        return """
                %s
                defaults: { zone: UTC }
                budgets:
                  - id: workspace
                    windows: [{ period: month, limits: { total: 1B } }]
                    allocation:
                      oversubscription: reject
                      rebalance: { at: 50%%, below: 50%%, share: 50%%, max: 30%% }
                  - id: support
                    parent: workspace
                    overflow: true
                    overflow_cap: 30%%
                    windows: [{ period: month, limits: { total: 400M } }]
                  - id: marketing
                    parent: workspace
                    windows: [{ period: month, limits: { total: 300M } }]
                  - id: internal
                    parent: workspace
                    windows: [{ period: month, limits: { total: 200M } }]
                  - id: experiments
                    parent: workspace
                    windows: [{ period: month, limits: { total: 100M } }]
                keys:
                  - { name: support, sha256: %s, budget: support }
                  - { name: marketing, sha256: %s, budget: marketing }
                  - { name: internal, sha256: %s, budget: internal }
                  - { name: experiments, sha256: %s, budget: experiments }
                """.formatted(store, sha("sk-support"), sha("sk-marketing"), sha("sk-internal"),
                sha("sk-experiments"));
    }

    protected final ManualClock clock = new ManualClock(MAY_1);
    protected final List<BudgetEvent> events = new CopyOnWriteArrayList<>();
    protected BudgetEngine engine;

    /** A fresh store with no state of this scenario's tree. */
    protected abstract BudgetStore newStore();

    /** The config's store section (the engine is given its store; the section only documents it). */
    protected String storeSection() {
        return "";
    }

    @BeforeEach
    void startEngine() {
        engine = engine(newStore());
    }

    @AfterEach
    void stopEngine() {
        engine.close();
    }

    protected BudgetEngine engine(BudgetStore store) {
        BudgetEngine e = BudgetEngine.builder(ConfigLoader.parse(config(storeSection()))).store(store).clock(clock)
                .build();
        e.subscribe(events::add);
        return e;
    }

    protected static Ticket spend(BudgetEngine e, String team, long tokens) {
        Ticket t = e.reserve(new BudgetRequest(e.authenticate("sk-" + team).orElseThrow(), null, null, "m",
                tokens, 0));
        if (t.decision().admitted()) {
            e.settle(t, TokenUsage.of(tokens, 0));
        }
        return t;
    }

    protected static long used(BudgetEngine e, String budget) {
        return e.status(budget).orElseThrow().windows().get(0).used().total();
    }

    @Test
    void supportGoesOnOnPoolTokensAfterTheMidMonthRebalanceAndTheLedgerBalances() {
        // the first half of May: support at 95%, internal at 30%, marketing at 50%, experiments at 60%
        clock.setTo(Instant.parse("2026-05-10T09:00:00Z"));
        assertThat(spend(engine, "support", 380 * M).decision().admitted()).isTrue();
        assertThat(spend(engine, "internal", 60 * M).decision().admitted()).isTrue();
        assertThat(spend(engine, "marketing", 150 * M).decision().admitted()).isTrue();
        assertThat(spend(engine, "experiments", 60 * M).decision().admitted()).isTrue();

        // before the rebalance the pool is empty (the children take the whole 1B): support stops at its 400M
        Ticket early = spend(engine, "support", 30 * M);
        assertThat(early.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(early.decision().bindingBudget()).isEqualTo("support");
        assertThat(early.decision().allocation().cause()).isEqualTo(BindingCause.POOL);
        assertThat(early.decision().remaining()).isEqualTo(20 * M);
        assertThat(early.decision().message()).contains("overflow pool of 'workspace'");
        assertThat(engine.ledger().after(0, 100, null)).isEmpty();

        // mid-month: the next reservation through the workspace runs the rebalance
        clock.setTo(MID_MAY);
        Ticket onPool = spend(engine, "support", 30 * M);
        assertThat(onPool.decision().outcome()).isEqualTo(Decision.Outcome.ALLOW);
        assertThat(onPool.decision().allocation().usedPool()).isTrue();
        assertThat(onPool.decision().allocation().poolBudget()).isEqualTo("workspace");
        assertThat(onPool.decision().allocation().pooled().total()).isEqualTo(10 * M);
        assertThat(onPool.decision().message()).contains("drew 10000000 tokens from the overflow pool of 'workspace'");

        // internal (30% < 50%) gave half its unused 140M, capped at 30% of 200M: 60M; the others gave nothing
        List<LedgerEntry> ledger = engine.ledger().after(0, 100, null);
        assertThat(ledger).singleElement().satisfies(e -> {
            assertThat(e.at()).isEqualTo(MID_MAY);
            LedgerChange c = e.change();
            assertThat(c.kind()).isEqualTo(LedgerChange.Kind.REBALANCE);
            assertThat(c.budgetId()).isEqualTo("internal");
            assertThat(c.window()).isEqualTo("month:2026-05");
            assertThat(c.before()).containsExactly(Map.entry("total", 200 * M));
            assertThat(c.after()).containsExactly(Map.entry("total", 140 * M));
            assertThat(c.actor()).isEqualTo("rebalance");
            assertThat(c.reason()).contains("at 50% of month:2026-05", "to the pool of 'workspace'",
                    "total: 60000000 of 200000000");
        });
        assertThat(events).filteredOn(e -> e instanceof BudgetEvent.AllocationChanged).hasSize(1);

        // support draws 20M more (30M drawn of the 60M pool); internal now has 140M of its own, 80M of it left
        assertThat(spend(engine, "support", 20 * M).decision().allocation().pooled().total()).isEqualTo(20 * M);
        Ticket internalTooMuch = spend(engine, "internal", 81 * M);
        assertThat(internalTooMuch.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(internalTooMuch.decision().allocation().cause()).isEqualTo(BindingCause.CAP);
        assertThat(internalTooMuch.decision().remaining()).isEqualTo(80 * M);

        // the ledger balances: contributions = pool draws + what remains in the pool
        AllocationStatus.Pool pool = engine.allocation("workspace").orElseThrow().pools().get(0);
        long contributions = ledger.stream().mapToLong(e -> AbstractBudgetStoreTest.given(e).total()).sum();
        assertThat(pool.headroom()).isEqualTo(TokenCounts.ZERO);
        assertThat(pool.contributions().total()).isEqualTo(contributions);
        assertThat(pool.used().total()).isEqualTo(30 * M);
        assertThat(pool.remaining().total()).isEqualTo(30 * M);
        assertThat(contributions).isEqualTo(pool.used().total() + pool.remaining().total());
        assertThat(pool.rebalanced()).isTrue();
        assertThat(pool.children()).extracting(AllocationStatus.Child::budgetId)
                .containsExactly("support", "marketing", "internal", "experiments");
        AllocationStatus.Child support = pool.children().get(0);
        assertThat(support.committed().total()).isEqualTo(430 * M);
        assertThat(support.draw().total()).isEqualTo(30 * M);
        assertThat(pool.children().get(2).given().total()).isEqualTo(60 * M);

        // no cap is passed: each child within its allocation (support: plus its draw), the workspace within 1B
        assertThat(used(engine, "support")).isEqualTo(430 * M).isLessThanOrEqualTo(400 * M + pool.used().total());
        assertThat(used(engine, "internal")).isLessThanOrEqualTo(200 * M - 60 * M);
        assertThat(used(engine, "workspace")).isEqualTo(430 * M + 60 * M + 150 * M + 60 * M)
                .isLessThanOrEqualTo(1000 * M);

        // support can drain the pool but not pass it
        assertThat(spend(engine, "support", 30 * M).decision().admitted()).isTrue();
        Ticket dry = spend(engine, "support", 1);
        assertThat(dry.decision().allocation().cause()).isEqualTo(BindingCause.POOL);
        assertThat(engine.allocation("workspace").orElseThrow().pools().get(0).remaining().total()).isZero();

        // the rebalance ran once: housekeeping and later requests find it claimed
        assertThat(engine.rebalance()).isEmpty();
        clock.setTo(Instant.parse("2026-05-20T00:00:00Z"));
        engine.expireLeases();
        spend(engine, "marketing", 1);
        assertThat(engine.ledger().after(0, 100, null)).hasSize(1);
    }

    @Test
    void aSecondEngineOnTheSameStoreSeesThePoolAndDoesNotRebalanceAgain() {
        clock.setTo(Instant.parse("2026-05-10T09:00:00Z"));
        spend(engine, "support", 380 * M);
        spend(engine, "internal", 60 * M);
        spend(engine, "marketing", 150 * M);
        spend(engine, "experiments", 60 * M);
        clock.setTo(MID_MAY);
        assertThat(engine.rebalance()).hasSize(1);
        try (BudgetEngine other = engine(sharedStoreForSecondEngine())) {
            assertThat(other.rebalance()).isEmpty();
            Ticket t = spend(other, "support", 50 * M);
            assertThat(t.decision().allocation().pooled().total()).isEqualTo(30 * M);
            assertThat(other.ledger().after(0, 100, null)).hasSize(1);
        }
    }

    /** A second store handle on the same state (a second client for a shared store). */
    protected abstract BudgetStore sharedStoreForSecondEngine();

    @Test
    void aHoldForSupportKeepsItsTokensFromItsSiblingsUntilItIsDeleted() {
        clock.setTo(Instant.parse("2026-05-03T09:00:00Z"));
        spend(engine, "marketing", 300 * M);
        spend(engine, "internal", 200 * M);
        Hold hold = engine.reservations().create(HoldRequest.forChild("workspace", "support", Limits.total(450 * M))
                .by("alice", "support launch"));
        assertThat(hold.until()).isEqualTo(Instant.parse("2026-06-01T00:00:00Z"));

        // 500M used and 450M held for support: its siblings have 50M of the workspace left
        Ticket refused = spend(engine, "experiments", 60 * M);
        assertThat(refused.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(refused.decision().bindingBudget()).isEqualTo("workspace");
        assertThat(refused.decision().allocation().cause()).isEqualTo(BindingCause.HOLD);
        assertThat(refused.decision().remaining()).isEqualTo(50 * M);
        assertThat(refused.decision().message()).contains("held for another budget");
        assertThat(spend(engine, "experiments", 50 * M).decision().admitted()).isTrue();

        // support consumes its hold; what it has not consumed stays kept from the others
        Ticket supportTicket = spend(engine, "support", 100 * M);
        assertThat(supportTicket.decision().allocation().usedHold()).isTrue();
        assertThat(supportTicket.decision().allocation().heldBudget()).isEqualTo("workspace");
        assertThat(supportTicket.decision().allocation().held().total()).isEqualTo(100 * M);
        assertThat(spend(engine, "experiments", 1).decision().allocation().cause()).isEqualTo(BindingCause.HOLD);
        assertThat(engine.reservations().list("workspace")).singleElement()
                .satisfies(h -> assertThat(h.unconsumed().total()).isEqualTo(350 * M));

        assertThat(engine.reservations().delete("workspace", hold.id(), "alice", "launch moved")).isTrue();
        assertThat(engine.reservations().delete("workspace", hold.id(), "alice", "again")).isFalse();

        // a hold for later: 40M kept from everybody until the 25th, then free
        Hold later = engine.reservations().create(HoldRequest.until("workspace", Limits.total(40 * M),
                Instant.parse("2026-05-25T00:00:00Z")).by("bob", "keep 40M for the last week"));
        assertThat(spend(engine, "support", 300 * M).decision().admitted()).isTrue();
        Ticket beforeEnd = spend(engine, "experiments", 20 * M);
        assertThat(beforeEnd.decision().allocation().cause()).isEqualTo(BindingCause.HOLD);
        assertThat(beforeEnd.decision().remaining()).isEqualTo(10 * M);
        assertThat(engine.reservations().list("workspace")).extracting(h -> h.hold().id())
                .containsExactly(later.id());

        clock.setTo(Instant.parse("2026-05-25T00:00:00Z"));
        assertThat(spend(engine, "experiments", 20 * M).decision().admitted()).isTrue();
        assertThat(engine.reservations().list("workspace")).isEmpty();
        assertThat(used(engine, "workspace")).isEqualTo(970 * M);
        List<LedgerEntry> ledger = engine.ledger().after(0, 100, null);
        assertThat(ledger).extracting(e -> e.change().kind()).containsExactly(
                LedgerChange.Kind.RESERVATION_CREATED, LedgerChange.Kind.RESERVATION_CANCELLED,
                LedgerChange.Kind.RESERVATION_CREATED);
        assertThat(ledger.get(0).change()).satisfies(c -> {
            assertThat(c.actor()).isEqualTo("alice");
            assertThat(c.budgetId()).isEqualTo("support");
            assertThat(c.after()).containsExactly(Map.entry("total", 450 * M));
            assertThat(c.idempotencyKey()).isEqualTo("reservation:" + hold.id() + ":created");
            assertThat(c.reason()).isEqualTo("support launch (450M tokens of 'workspace' held for 'support' until "
                    + "2026-06-01T00:00:00Z)");
        });
        assertThat(ledger.get(2).change().budgetId()).isEqualTo("workspace");
        assertThat(engine.ledger().lastSeq()).isEqualTo(3);
        assertThat(engine.ledger().after(0, 10, "support")).hasSize(2);
    }
}
