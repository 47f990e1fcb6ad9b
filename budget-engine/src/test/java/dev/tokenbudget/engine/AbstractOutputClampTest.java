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
              - id: capped                   # degraded requests are sent with at most 1,024 output tokens
                parent: org
                windows: [{ period: month, limits: { total: 10000 } }]
                thresholds: [{ at: 90, policy: degrade_route }, { at: 100, policy: hard_stop }]
                degrade: { models: { claude-opus-4-7: claude-haiku-4-5 }, max_output_tokens: 1024 }
              - id: fitting                  # the same, and clamped to what is left
                parent: org
                windows: [{ period: month, limits: { total: 10000 } }]
                thresholds: [{ at: 90, policy: degrade_route }, { at: 100, policy: hard_stop }]
                degrade: { models: { claude-opus-4-7: claude-haiku-4-5 }, max_output_tokens: 1024,
                           clamp_to_remaining: true }
              - id: dept                     # degrades its teams from 50%%, to 1,024 output tokens
                parent: org
                windows: [{ period: month, limits: { total: 20000 } }]
                thresholds: [{ at: 50, policy: degrade_route }, { at: 100, policy: hard_stop }]
                degrade: { models: { claude-opus-4-7: claude-haiku-4-5 }, max_output_tokens: 1024 }
              - id: squad                    # stops at its own 5,000 and never degrades itself
                parent: dept
                windows: [{ period: month, limits: { total: 5000 } }]
                thresholds: [{ at: 100, policy: hard_stop }]
              - id: crew
                parent: dept
                windows: [{ period: month, limits: { total: 15000 } }]
                thresholds: [{ at: 100, policy: hard_stop }]
            keys:
              - { name: clamped, sha256: %s, budget: clamped }
              - { name: plain, sha256: %s, budget: plain }
              - { name: soft, sha256: %s, budget: soft }
              - { name: pooled, sha256: %s, budget: pooled }
              - { name: capped, sha256: %s, budget: capped }
              - { name: fitting, sha256: %s, budget: fitting }
              - { name: squad, sha256: %s, budget: squad }
              - { name: crew, sha256: %s, budget: crew }
            """.formatted(sha("sk-clamped"), sha("sk-plain"), sha("sk-soft"), sha("sk-pooled"), sha("sk-capped"),
            sha("sk-fitting"), sha("sk-squad"), sha("sk-crew"));

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
        return ask(team, input, ceiling, true);
    }

    /**
     * A request through a gateway that holds it to a degrade clamp ({@code enforced}) or not. Every
     * ticket must agree with its decision: a request reserved with less than it asked for goes
     * degraded, clamped to at most what is reserved.
     */
    private Ticket ask(String team, long input, long ceiling, boolean enforced) {
        Ticket t = engine.reserve(new BudgetRequest(engine.authenticate("sk-" + team).orElseThrow(), null, null,
                "claude-opus-4-7", input, ceiling, enforced));
        assertThat(t.requestedOutput()).isEqualTo(ceiling);
        if (t.decision().admitted()) {
            assertThat(t.reservedOutput()).isBetween(Math.min(1L, ceiling), ceiling);
            RouteDirective dir = t.decision().directive();
            if (t.reservedOutput() < ceiling) {
                assertThat(t.decision().outcome()).isEqualTo(Decision.Outcome.DEGRADE);
                assertThat(dir.maxOutputTokens()).isBetween(0L, t.reservedOutput());
            }
            if (dir != null && dir.maxOutputTokens() >= 0) {
                assertThat(dir.maxOutputTokens()).isLessThanOrEqualTo(t.reservedOutput());
            }
            if (t.fitted()) {
                assertThat(t.reservedOutput()).isLessThan(ceiling);
            }
        }
        return t;
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

    // ---- max_output_tokens: a degraded request reserves what it is sent with -------------------

    @Test
    void aRequestRefusedAtItsOwnCeilingIsAdmittedAtTheDegradeSpecsMaxOutputTokens() {
        spend("capped", 8000, 300);
        // 8,300 + 500 + 4,096 would pass the cap; with the 1,024 the economy route sends, 9,824 fit
        Ticket t = ask("capped", 500, 4096);
        Decision d = t.decision();
        assertThat(d.outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(d.directive().model()).isEqualTo("claude-haiku-4-5");
        assertThat(d.directive().maxOutputTokens()).isEqualTo(1024);
        assertThat(d.message()).contains("output ceiling clamped from 4096 to 1024 tokens, the degrade route's "
                + "max_output_tokens (4096 would not have fitted)");
        assertThat(t.reservedOutput()).isEqualTo(1024);
        assertThat(t.fitted()).isTrue();
        assertThat(DecisionHeaders.forResponse(d)).containsEntry(DecisionHeaders.MAX_OUTPUT_TOKENS, "1024");
        assertThat(engine.status("capped").orElseThrow().windows().get(0).reserved().total()).isEqualTo(1524);
        // the provider's report is charged as reported, even above the reservation
        engine.settle(t, TokenUsage.of(500, 1100));
        assertThat(engine.status("capped").orElseThrow().windows().get(0).used().total()).isEqualTo(9900);
    }

    @Test
    void whenMaxOutputTokensDoesNotFitEitherTheRequestIsRefusedAsBefore() {
        spend("capped", 8000, 1000);
        Ticket t = ask("capped", 500, 4096);
        assertThat(t.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(t.decision().httpStatus()).isEqualTo(429);
        assertThat(t.decision().remaining()).isEqualTo(1000);
        assertThat(t.fitted()).isFalse();
        // never less than max_output_tokens allows without clamp_to_remaining: 500 output tokens would fit
        assertThat(ask("capped", 500, 500).decision().admitted()).isTrue();
    }

    @Test
    void withClampToRemainingTheCeilingIsTheSmallerOfMaxOutputTokensAndWhatIsLeft() {
        spend("fitting", 8000, 300);
        // 1,700 left: the economy route's 1,024, not the 1,200 that would still fit
        Ticket atM = ask("fitting", 500, 4096);
        assertThat(atM.reservedOutput()).isEqualTo(1024);
        assertThat(atM.decision().directive().maxOutputTokens()).isEqualTo(1024);
        assertThat(atM.fitted()).isTrue();
        engine.settle(atM, TokenUsage.of(500, 1024));

        // 176 left: 76 output tokens fit after the input
        Ticket atRoom = ask("fitting", 100, 4096);
        assertThat(atRoom.decision().outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(atRoom.reservedOutput()).isEqualTo(76);
        assertThat(atRoom.decision().directive().maxOutputTokens()).isEqualTo(76);
        assertThat(atRoom.decision().message()).contains("output ceiling clamped from 4096 to 76 tokens, what its "
                + "budgets had left (4096 would not have fitted)");
        engine.settle(atRoom, TokenUsage.of(100, 76));
        assertThat(engine.status("fitting").orElseThrow().windows().get(0).used().total()).isEqualTo(10_000);
    }

    @Test
    void anAdmittedRequestPastTheDegradeThresholdReservesOnlyMaxOutputTokens() {
        spend("capped", 8800, 0);
        // fits at 1,100 too, but the economy route sends at most 1,024: siblings keep the difference
        Ticket t = ask("capped", 100, 1100);
        assertThat(t.decision().outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(t.reservedOutput()).isEqualTo(1024);
        assertThat(t.fitted()).isFalse();
        assertThat(t.decision().message()).contains("output ceiling clamped from 1100 to 1024 tokens")
                .doesNotContain("would not have fitted");
        assertThat(engine.status("capped").orElseThrow().windows().get(0).reserved().total()).isEqualTo(1124);
        assertThat(ask("capped", 26, 50).decision().admitted()).isTrue();
    }

    @Test
    void aRequestThatReachesTheThresholdOnlyWithItsOwnCeilingReservesThatCeiling() {
        spend("capped", 7000, 0);
        // 95% with its 2,000; with 1,024 it would stay at 85%, undegraded: so it reserves its 2,000
        Ticket t = ask("capped", 500, 2000);
        assertThat(t.decision().outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(t.reservedOutput()).isEqualTo(2000);
        assertThat(t.decision().directive().maxOutputTokens()).isEqualTo(1024);
    }

    @Test
    void aRequestOnlyMaxOutputTokensAdmitsGoesDegradedBelowTheThreshold() {
        spend("capped", 5000, 0);
        // 4,500 output tokens would still fit, 5,000 would not: admitted as the economy route sends it
        Ticket t = ask("capped", 500, 5000);
        Decision d = t.decision();
        assertThat(d.outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(d.bindingBudget()).isEqualTo("capped");
        assertThat(d.directive().model()).isEqualTo("claude-haiku-4-5");
        assertThat(t.reservedOutput()).isEqualTo(1024);
        assertThat(d.message()).startsWith("admitted on the 'economy' route: budget 'capped' is at 65%");
    }

    @Test
    void aGatewayThatCannotHoldTheClampReservesAndRefusesAtTheAskedCeiling() {
        spend("capped", 8000, 300);
        assertThat(ask("capped", 500, 4096, false).decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        Ticket t = ask("capped", 100, 1500, false);
        assertThat(t.decision().outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(t.reservedOutput()).isEqualTo(1500);
        spend("clamped", 8000, 500);
        assertThat(ask("clamped", 500, 4096, false).decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
    }

    @Test
    void aDegradedParentLowersTheCeilingThatItsChildsHardStopAdmits() {
        spend("crew", 7000, 0);
        spend("squad", 3000, 0);
        // squad has 2,000 left, too little for 4,096; dept is at 50%, degraded, and sends 1,024
        Ticket t = ask("squad", 500, 4096);
        Decision d = t.decision();
        assertThat(d.outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(d.bindingBudget()).isEqualTo("dept");
        assertThat(d.directive().maxOutputTokens()).isEqualTo(1024);
        assertThat(t.reservedOutput()).isEqualTo(1024);
        assertThat(t.fitted()).isTrue();
        assertThat(engine.status("squad").orElseThrow().windows().get(0).reserved().total()).isEqualTo(1524);
        engine.settle(t, TokenUsage.of(500, 1024));

        // 476 left at squad: 1,024 does not fit, and squad itself never degrades: refused by squad
        Ticket over = ask("squad", 500, 4096);
        assertThat(over.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(over.decision().bindingBudget()).isEqualTo("squad");
    }

    @Test
    void aParentBelowItsThresholdLowersNothing() {
        spend("squad", 3000, 0);
        // dept at 15%: max_output_tokens does not apply, and squad refuses the 4,096 it asks for
        Ticket t = ask("squad", 500, 4096);
        assertThat(t.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(t.decision().bindingBudget()).isEqualTo("squad");
    }
}
