package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.tokenbudget.engine.EngineFixture.sha;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Run-time limit changes reach every engine sharing the store, and survive a restart. */
class LimitSyncTest {

    private static final String CONFIG = """
            defaults: { zone: UTC }
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: %d } }]
            keys:
              - name: k
                sha256: %s
                budget: org
            """;

    private final ManualClock clock = new ManualClock(EngineFixture.START);

    private BudgetEngine engine(BudgetStore store, long orgLimit) {
        return BudgetEngine.builder(ConfigLoader.parse(CONFIG.formatted(orgLimit, sha("k-secret"))))
                .store(store).clock(clock).build();
    }

    private static Decision.Outcome spend(BudgetEngine e, long tokens) {
        Ticket t = e.reserve(new BudgetRequest(e.authenticate("k-secret").orElseThrow(), null, null, "m", tokens, 0));
        e.settle(t, TokenUsage.of(tokens, 0));
        return t.decision().outcome();
    }

    private static long limit(BudgetEngine e) {
        return e.status("org").orElseThrow().windows().get(0).limits().total();
    }

    @Test
    void aChangeOnOneEngineReachesTheOthersOnTheirNextSync() {
        InMemoryBudgetStore store = new InMemoryBudgetStore();
        BudgetEngine a = engine(store, 10_000);
        BudgetEngine b = engine(store, 10_000);
        List<BudgetEvent> bEvents = new CopyOnWriteArrayList<>();
        b.subscribe(bEvents::add);
        assertThat(spend(b, 6_000)).isEqualTo(Decision.Outcome.ALLOW);

        a.updateLimits("org", "month", Limits.total(5_000));
        assertThat(limit(a)).isEqualTo(5_000);
        assertThat(limit(b)).isEqualTo(10_000);

        assertThat(b.syncLimits()).isEqualTo(1);
        assertThat(limit(b)).isEqualTo(5_000);
        assertThat(spend(b, 100)).isEqualTo(Decision.Outcome.REJECT);
        assertThat(bEvents).filteredOn(e -> e instanceof BudgetEvent.LimitsChanged).singleElement()
                .satisfies(e -> assertThat(((BudgetEvent.LimitsChanged) e).after()).isEqualTo(Limits.total(5_000)));
        // nothing new: nothing applied again
        assertThat(b.syncLimits()).isZero();
        assertThat(a.syncLimits()).isZero();
    }

    @Test
    void anEngineStartedLaterStartsWithTheChange() {
        InMemoryBudgetStore store = new InMemoryBudgetStore();
        engine(store, 10_000).updateLimits("org", "month", Limits.total(3_000));
        assertThat(limit(engine(store, 10_000))).isEqualTo(3_000);
    }

    @Test
    void anEngineWhoseConfigWasEditedSinceKeepsItsConfig() {
        InMemoryBudgetStore store = new InMemoryBudgetStore();
        engine(store, 10_000).updateLimits("org", "month", Limits.total(3_000));
        // the operator wrote a new limit into the config and restarted: the config wins
        BudgetEngine edited = engine(store, 20_000);
        assertThat(limit(edited)).isEqualTo(20_000);
        assertThat(edited.syncLimits()).isZero();
    }

    @Test
    void theLastChangeWinsOnEveryEngine() {
        InMemoryBudgetStore store = new InMemoryBudgetStore();
        BudgetEngine a = engine(store, 10_000);
        BudgetEngine b = engine(store, 10_000);
        a.updateLimits("org", "month", Limits.total(4_000));
        b.updateLimits("org", "month", Limits.total(6_000));
        a.syncLimits();
        b.syncLimits();
        assertThat(limit(a)).isEqualTo(6_000);
        assertThat(limit(b)).isEqualTo(6_000);
    }

    @Test
    void refusesUnknownBudgetsAndWindowsWithoutSavingAnything() {
        InMemoryBudgetStore store = new InMemoryBudgetStore();
        BudgetEngine a = engine(store, 10_000);
        assertThatThrownBy(() -> a.updateLimits("nope", "month", Limits.total(1))).hasMessage("unknown budget 'nope'");
        assertThatThrownBy(() -> a.updateLimits("org", "week", Limits.total(1)))
                .hasMessage("budget 'org' has no window 'week'");
        assertThat(store.limitOverrides(0).version()).isZero();
    }
}
