package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static dev.tokenbudget.engine.EngineFixture.sha;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A request that no window on its path could ever admit, even empty, is refused for good
 * ({@link Decision.Reason#REQUEST_EXCEEDS_LIMIT}, 400, no retry time), while one that only has to
 * wait is refused with a retry time that is exactly right: waiting it out admits the request, one
 * second less does not. Where a degrade spec can clamp the request into a window, it is clamped
 * instead. Every store runs it.
 */
public abstract class AbstractNeverFitsTest {

    private static final String CONFIG = """
            defaults: { zone: UTC }
            budgets:
              - id: org
                windows: [{ period: day, limits: { total: 1M } }]
                allocation: { oversubscription: allow }
              - id: daily                    # 100,000 tokens a day, then a hard stop
                parent: org
                windows: [{ period: day, limits: { total: 100k } }]
                thresholds: [{ at: 100, policy: hard_stop }]
              - id: early                    # stops at 90%% of its 10,000
                parent: org
                windows: [{ period: day, limits: { total: 10000 } }]
                thresholds: [{ at: 90, policy: hard_stop }]
              - id: weekly                   # a rolling week and a rolling hour
                parent: org
                windows:
                  - { period: rolling, length: 7d, limits: { total: 50000 } }
                  - { period: rolling, length: 1h, limits: { total: 2000 } }
                thresholds: [{ at: 100, policy: hard_stop }]
              - id: small                    # a team under a parent smaller than itself
                parent: tight
                windows: [{ period: day, limits: { total: 1M } }]
                thresholds: [{ at: 100, policy: hard_stop }]
              - id: tight
                parent: org
                windows: [{ period: day, limits: { total: 5000 } }]
                thresholds: [{ at: 100, policy: hard_stop }]
              - id: clamped                  # degrades at 90%%, clamps what it sends to what is left
                parent: org
                windows: [{ period: day, limits: { total: 10000 } }]
                thresholds: [{ at: 90, policy: degrade_route }, { at: 100, policy: hard_stop }]
                degrade: { clamp_to_remaining: true }
              - id: capped                   # degraded requests get at most 1,024 output tokens
                parent: org
                windows: [{ period: day, limits: { total: 10000 } }]
                thresholds: [{ at: 90, policy: degrade_route }, { at: 100, policy: hard_stop }]
                degrade: { max_output_tokens: 1024 }
              - id: prompts                  # an input limit no clamp of the output helps with
                parent: org
                windows: [{ period: day, limits: { input: 1000, total: 10000 } }]
                thresholds: [{ at: 90, policy: degrade_route }, { at: 100, policy: hard_stop }]
                degrade: { clamp_to_remaining: true }
              - id: pooled                   # may pass its own 10,000 by up to 5,000 from org's pool
                parent: org
                overflow: true
                overflow_cap: 5000
                windows: [{ period: day, limits: { total: 10000 } }]
                thresholds: [{ at: 100, policy: hard_stop }]
            keys:
              - { name: daily, sha256: %s, budget: daily }
              - { name: early, sha256: %s, budget: early }
              - { name: weekly, sha256: %s, budget: weekly }
              - { name: small, sha256: %s, budget: small }
              - { name: clamped, sha256: %s, budget: clamped }
              - { name: capped, sha256: %s, budget: capped }
              - { name: prompts, sha256: %s, budget: prompts }
              - { name: pooled, sha256: %s, budget: pooled }
            """.formatted(sha("sk-daily"), sha("sk-early"), sha("sk-weekly"), sha("sk-small"), sha("sk-clamped"),
            sha("sk-capped"), sha("sk-prompts"), sha("sk-pooled"));

    private EngineFixture fx;
    private BudgetEngine engine;

    /** A fresh store with no state of this test's tree. */
    protected abstract BudgetStore newStore();

    @BeforeEach
    void startEngine() {
        fx = new EngineFixture(CONFIG, newStore());
        engine = fx.engine;
    }

    @AfterEach
    void stopEngine() {
        engine.close();
    }

    private Ticket ask(String key, long input, long ceiling, boolean enforced) {
        return engine.reserve(new BudgetRequest(engine.authenticate("sk-" + key).orElseThrow(), null, null, "gpt-4.1",
                input, ceiling, enforced));
    }

    private Ticket ask(String key, long input, long ceiling) {
        return ask(key, input, ceiling, true);
    }

    private void spend(String key, long input, long output) {
        Ticket t = ask(key, input, output);
        assertThat(t.decision().admitted()).as(t.decision().message()).isTrue();
        engine.settle(t, TokenUsage.of(input, output));
    }

    private static void assertNeverFits(Decision d, String budget, Dimension dim, long limit) {
        assertThat(d.outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(d.reason()).as(d.message()).isEqualTo(Decision.Reason.REQUEST_EXCEEDS_LIMIT);
        assertThat(d.httpStatus()).isEqualTo(400);
        assertThat(d.retryAfterSeconds()).isZero();
        assertThat(d.bindingBudget()).isEqualTo(budget);
        assertThat(d.dimension()).isEqualTo(dim);
        assertThat(d.limit()).isEqualTo(limit);
        assertThat(DecisionHeaders.forResponse(d)).doesNotContainKey(DecisionHeaders.RETRY_AFTER);
    }

    /** Refused now with a retry time after which, and not one second before, the same request is admitted. */
    private void assertRetryAfterIsExact(String key, long input, long output) {
        Ticket t = ask(key, input, output);
        Decision d = t.decision();
        assertThat(d.reason()).as(d.message()).isEqualTo(Decision.Reason.BUDGET_EXHAUSTED);
        assertThat(d.httpStatus()).isEqualTo(429);
        long retry = d.retryAfterSeconds();
        assertThat(retry).isPositive();
        assertThat(DecisionHeaders.forResponse(d)).containsEntry(DecisionHeaders.RETRY_AFTER, Long.toString(retry));
        fx.clock.advance(Duration.ofSeconds(retry - 1));
        assertThat(ask(key, input, output).decision().reason()).isEqualTo(Decision.Reason.BUDGET_EXHAUSTED);
        fx.clock.advance(Duration.ofSeconds(1));
        Decision later = ask(key, input, output).decision();
        assertThat(later.admitted()).as(later.message()).isTrue();
    }

    @Test
    void aRequestLargerThanItsBudgetsWholeDayIsRefusedForGoodNamingBudgetWindowLimitAndNeed() {
        Decision d = ask("daily", 1000, 200_000).decision();
        assertNeverFits(d, "daily", Dimension.TOTAL, 100_000);
        assertThat(d.bindingWindow()).isEqualTo("day:2026-11-02");
        assertThat(d.message()).contains("needs 201000 total tokens", "budget 'daily'", "at most 100000",
                "per day window");
        assertThat(engine.status("daily").orElseThrow().windows().get(0).reserved().total()).isZero();
        // the same tomorrow, on an empty window: it can never fit
        fx.clock.advance(Duration.ofDays(1));
        assertNeverFits(ask("daily", 1000, 200_000).decision(), "daily", Dimension.TOTAL, 100_000);
    }

    @Test
    void aRequestThatOnlyHasToWaitForTheResetIsStill429UntilExactlyTheReset() {
        spend("daily", 1000, 89_000);
        assertThat(ask("daily", 1000, 20_000).decision().retryAfterSeconds())
                .isEqualTo(Duration.between(fx.clock.now(), Instant.parse("2026-11-03T00:00:00Z")).toSeconds());
        assertRetryAfterIsExact("daily", 1000, 20_000);
    }

    @Test
    void anOutputCeilingOfTwoToTheSixtyThreeIsRefusedForGoodWithoutOverflow() {
        Decision d = ask("daily", 10, Long.MAX_VALUE).decision();
        assertNeverFits(d, "daily", Dimension.TOTAL, 100_000);
        // what the request asked for, not a clipped stand-in; input + ceiling saturates instead of wrapping
        assertThat(d.message()).contains("needs " + Long.MAX_VALUE + " total tokens",
                "output ceiling " + Long.MAX_VALUE);
        assertThat(ask("daily", Long.MAX_VALUE, Long.MAX_VALUE).decision().reason())
                .isEqualTo(Decision.Reason.REQUEST_EXCEEDS_LIMIT);
    }

    @Test
    void theBoundIsTheHardStopNotTheLimit() {
        // 9,000 of 10,000 admitted at most: exactly that fits an empty day, one more never does
        Ticket fits = ask("early", 0, 9000);
        assertThat(fits.decision().admitted()).isTrue();
        engine.release(fits);
        Decision d = ask("early", 0, 9001).decision();
        assertNeverFits(d, "early", Dimension.TOTAL, 10_000);
        assertThat(d.message()).contains("its limit is 10000, with a hard stop at 9000");
    }

    @Test
    void aRequestLargerThanARollingWindowIsRefusedForGoodAndOneThatWaitsGetsTheRollOffTime() {
        // the rolling hour of 2,000 binds before the rolling week of 50,000
        Decision d = ask("weekly", 500, 1600).decision();
        assertNeverFits(d, "weekly", Dimension.TOTAL, 2000);
        assertThat(d.bindingWindow()).isEqualTo("rolling-1h");
        // a week of 50,000: spend 49,000 over the days, then a request of 1,500 waits for the oldest to roll off
        for (int day = 0; day < 49; day++) {
            spend("weekly", 0, 1000);
            fx.clock.advance(Duration.ofHours(3));
        }
        assertRetryAfterIsExact("weekly", 500, 1000);
    }

    @Test
    void aParentOnThePathSmallerThanTheRequestRefusesItForGood() {
        Decision d = ask("small", 1000, 4500).decision();
        assertNeverFits(d, "tight", Dimension.TOTAL, 5000);
        assertThat(d.message()).contains("budget 'tight'");
    }

    @Test
    void aLimitLoweredAtRunTimeBelowARequestThatUsedToFitRefusesItForGood() {
        Ticket before = ask("daily", 1000, 60_000);
        assertThat(before.decision().admitted()).isTrue();
        engine.settle(before, TokenUsage.of(1000, 500));
        engine.updateLimits("daily", "day", Limits.total(50_000));
        assertNeverFits(ask("daily", 1000, 60_000).decision(), "daily", Dimension.TOTAL, 50_000);
        // raised again, it fits again
        engine.updateLimits("daily", "day", Limits.total(100_000));
        assertThat(ask("daily", 1000, 60_000).decision().admitted()).isTrue();
    }

    @Test
    void clampToRemainingStillAdmitsARequestLargerThanTheWindowWithTheCeilingThatFits() {
        Ticket t = ask("clamped", 500, Long.MAX_VALUE);
        assertThat(t.decision().outcome()).as(t.decision().message()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(t.reservedOutput()).isEqualTo(9500);
        assertThat(t.decision().directive().maxOutputTokens()).isEqualTo(9500);
    }

    @Test
    void maxOutputTokensStillAdmitsARequestLargerThanTheWindowWithItsCeiling() {
        Ticket t = ask("capped", 500, 20_000);
        assertThat(t.decision().outcome()).as(t.decision().message()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(t.decision().directive().maxOutputTokens()).isEqualTo(1024);
        engine.release(t);
        // a gateway that cannot hold the request to the clamp (several choices) cannot be helped by it
        assertNeverFits(ask("capped", 500, 20_000, false).decision(), "capped", Dimension.TOTAL, 10_000);
    }

    @Test
    void aClampThatCouldFitLaterLeavesA429() {
        // 9,200 of 10,000 spent: max_output_tokens 1,024 plus 500 input does not fit now, but will tomorrow
        spend("capped", 0, 8000);
        spend("capped", 0, 1200);
        Decision d = ask("capped", 500, 20_000).decision();
        assertThat(d.reason()).as(d.message()).isEqualTo(Decision.Reason.BUDGET_EXHAUSTED);
        assertThat(d.httpStatus()).isEqualTo(429);
    }

    @Test
    void anInputLargerThanTheInputLimitIsRefusedForGoodWhateverTheClamp() {
        Decision d = ask("prompts", 1500, 10).decision();
        assertNeverFits(d, "prompts", Dimension.INPUT, 1000);
        assertThat(d.message()).contains("needs 1500 input tokens", "shorten the prompt");
    }

    @Test
    void anOverflowingChildIsBoundByItsCapPlusItsOverflowCap() {
        // 14,000 may fit with 4,000 from the pool; 15,001 never can
        Ticket t = ask("pooled", 0, 14_000);
        assertThat(t.decision().admitted()).as(t.decision().message()).isTrue();
        engine.release(t);
        Decision d = ask("pooled", 0, 15_001).decision();
        assertNeverFits(d, "pooled", Dimension.TOTAL, 10_000);
        assertThat(d.message()).contains("plus 5000 it may draw from its parent's pool");
    }

    @Test
    void aNeverFittingRequestIsARejectionEventWithItsReasonAndNoRetryTime() {
        ask("daily", 0, 1_000_000);
        assertThat(fx.events(BudgetEvent.RequestRejected.class))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.reason()).isEqualTo(Decision.Reason.REQUEST_EXCEEDS_LIMIT);
                    assertThat(e.retryAfterSeconds()).isZero();
                    assertThat(e.budgetId()).isEqualTo("daily");
                });
    }
}
