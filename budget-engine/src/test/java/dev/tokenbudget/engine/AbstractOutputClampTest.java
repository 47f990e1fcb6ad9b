package dev.tokenbudget.engine;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.store.BindingCause;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.tokenbudget.engine.EngineFixture.sha;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Staged demotion at the end of a window: {@code clamp_to_remaining} cuts a request's output
 * ceiling to what is left (a hard-stop budget admits with the ceiling that fits instead of
 * refusing; a budget without one cuts the last requests before its limit), and a budget stays on
 * the cheaper route past its own limit while it draws on its parent's overflow pool. Every store
 * runs it.
 */
public abstract class AbstractOutputClampTest {

    private static final String CONFIG = """
            defaults: { zone: UTC }
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 1M } }]
                allocation: { oversubscription: allow }
              - id: clamped                  # degrades at 90%%, stops at 100%%, clamps to what is left
                parent: org
                windows: [{ period: month, limits: { total: 10000 } }]
                thresholds: [{ at: 90, policy: degrade_route }, { at: 100, policy: hard_stop }]
                degrade: { models: { claude-opus-4-7: claude-haiku-4-5 }, clamp_to_remaining: true }
              - id: plain                    # the same without the clamp
                parent: org
                windows: [{ period: month, limits: { total: 10000 } }]
                thresholds: [{ at: 90, policy: degrade_route }, { at: 100, policy: hard_stop }]
                degrade: { models: { claude-opus-4-7: claude-haiku-4-5 } }
              - id: soft                     # never stops
                parent: org
                windows: [{ period: month, limits: { output: 5000 } }]
                thresholds: [{ at: 90, policy: degrade_route }, { at: 100, policy: degrade_route }]
                degrade: { max_output_tokens: 800, clamp_to_remaining: true }
              - id: pooled                   # may draw 5,000 tokens from org's pool once its own 10,000 are spent
                parent: org
                overflow: true
                overflow_cap: 5000
                windows: [{ period: month, limits: { total: 10000 } }]
                thresholds: [{ at: 90, policy: degrade_route }, { at: 100, policy: hard_stop }]
                degrade: { models: { claude-opus-4-7: claude-haiku-4-5 }, clamp_to_remaining: true }
            keys:
              - { name: clamped, sha256: %s, budget: clamped }
              - { name: plain, sha256: %s, budget: plain }
              - { name: soft, sha256: %s, budget: soft }
              - { name: pooled, sha256: %s, budget: pooled }
            """.formatted(sha("sk-clamped"), sha("sk-plain"), sha("sk-soft"), sha("sk-pooled"));

    protected final ManualClock clock = new ManualClock(Instant.parse("2026-05-04T09:00:00Z"));
    protected final List<BudgetEvent> events = new CopyOnWriteArrayList<>();
    private BudgetEngine engine;

    /** A fresh store with no state of this test's tree. */
    protected abstract BudgetStore newStore();

    @BeforeEach
    void startEngine() {
        engine = BudgetEngine.builder(ConfigLoader.parse(CONFIG)).store(newStore()).clock(clock).build();
        engine.subscribe(events::add);
    }

    @AfterEach
    void stopEngine() {
        engine.close();
    }

    private Ticket ask(String team, long input, long ceiling) {
        return engine.reserve(new BudgetRequest(engine.authenticate("sk-" + team).orElseThrow(), null, null,
                "claude-opus-4-7", input, ceiling));
    }

    private void spend(String team, long input, long output) {
        Ticket t = ask(team, input, output);
        assertThat(t.decision().admitted()).as(t.decision().message()).isTrue();
        engine.settle(t, TokenUsage.of(input, output));
    }

    @Test
    void aHardStopBudgetAdmitsTheLastRequestWithTheCeilingThatFitsInsteadOfRefusingIt() {
        spend("clamped", 8000, 500);
        // 8,500 + 500 input + 4,096 ceiling would pass the 10,000 cap: 1,000 output tokens still fit
        Ticket last = ask("clamped", 500, 4096);
        Decision d = last.decision();
        assertThat(d.outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(d.directive().maxOutputTokens()).isEqualTo(1000);
        assertThat(d.directive().model()).isEqualTo("claude-haiku-4-5");
        assertThat(d.message()).contains("output ceiling clamped from 4096 to 1000 tokens");
        assertThat(last.reservedOutput()).isEqualTo(1000);
        assertThat(engine.status("clamped").orElseThrow().windows().get(0).reserved().total()).isEqualTo(1500);
        assertThat(events).filteredOn(BudgetEvent.RequestDegraded.class::isInstance).hasSize(1);
        engine.settle(last, TokenUsage.of(500, 1000));

        // nothing is left, not even for the input: a refusal as before
        Ticket after = ask("clamped", 100, 100);
        assertThat(after.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(after.decision().httpStatus()).isEqualTo(429);
        assertThat(engine.status("clamped").orElseThrow().windows().get(0).used().total()).isEqualTo(10_000);
    }

    @Test
    void withoutClampToRemainingTheSameRequestIsRefused() {
        spend("plain", 8000, 500);
        Ticket last = ask("plain", 500, 4096);
        assertThat(last.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(last.decision().remaining()).isEqualTo(1500);
    }

    @Test
    void aRequestWhoseInputAloneDoesNotFitIsRefusedEvenWithTheClamp() {
        spend("clamped", 9000, 0);
        Ticket t = ask("clamped", 1200, 50);
        assertThat(t.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(t.decision().bindingBudget()).isEqualTo("clamped");
    }

    @Test
    void aBudgetWithoutAHardStopCutsTheLastCeilingsBeforeItsLimitAndNeverRefuses() {
        spend("soft", 10, 4000);                       // 80% of its 5,000 output tokens
        Ticket a = ask("soft", 10, 600);                // 92% with this ceiling: degraded, 1,000 were left
        assertThat(a.decision().outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(a.decision().directive().maxOutputTokens()).isEqualTo(600);
        engine.settle(a, TokenUsage.of(10, 600));
        Ticket b = ask("soft", 10, 1000);               // 400 left: the ceiling is cut to 400
        assertThat(b.decision().directive().maxOutputTokens()).isEqualTo(400);
        engine.settle(b, TokenUsage.of(10, 400));
        Ticket c = ask("soft", 10, 1000);               // spent: never stops, max_output_tokens still applies
        assertThat(c.decision().outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(c.decision().directive().maxOutputTokens()).isEqualTo(800);
    }

    @Test
    void aBudgetDrawingOnItsParentsPoolStaysDegradedAndIsClampedAtItsOverflowCap() {
        spend("pooled", 9300, 500);
        // its own 10,000 are spent by this one: 1,300 come from org's pool, on the cheaper route, unclamped
        Ticket onPool = ask("pooled", 500, 1000);
        assertThat(onPool.decision().outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(onPool.decision().directive().model()).isEqualTo("claude-haiku-4-5");
        assertThat(onPool.decision().directive().maxOutputTokens()).isEqualTo(1000);
        assertThat(onPool.decision().allocation().usedPool()).isTrue();
        assertThat(onPool.decision().allocation().pooled().total()).isEqualTo(1300);
        engine.settle(onPool, TokenUsage.of(500, 1000));

        // 11,300 used, at most 15,000 with the overflow cap: 3,000 input leave 700 for the output
        Ticket atCap = ask("pooled", 3000, 2000);
        assertThat(atCap.decision().outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(atCap.decision().directive().maxOutputTokens()).isEqualTo(700);
        assertThat(atCap.decision().allocation().pooled().total()).isEqualTo(3700); // 1,300 + 3,700 = the cap
        engine.settle(atCap, TokenUsage.of(3000, 700));

        Ticket over = ask("pooled", 10, 10);
        assertThat(over.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(over.decision().allocation().cause()).isEqualTo(BindingCause.OVERFLOW_CAP);
    }
}
