package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static dev.tokenbudget.engine.EngineFixture.sha;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BudgetEngineTest {

    private static final String TREE = """
            defaults: { zone: UTC }
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 10000 } }]
              - id: team
                parent: org
                windows: [{ period: month, limits: { total: 100000 } }]
              - id: chat
                parent: team
                windows: [{ period: day, limits: { input: 50000, output: 50000 } }]
              - id: other
                parent: org
                windows: [{ period: month, limits: { total: 100000 } }]
            keys:
              - name: team-key
                sha256: %s
                budget: team
                features: [chat]
              - name: other-key
                sha256: %s
                budget: other
            """.formatted(sha("k-team"), sha("k-other"));

    @Test
    void admitsWithinBudgetAndReportsTheBindingBudget() {
        EngineFixture f = new EngineFixture(TREE);
        Ticket t = f.reserve("k-team", "chat", 1000, 500);
        assertThat(t.decision().outcome()).isEqualTo(Decision.Outcome.ALLOW);
        assertThat(t.decision().bindingBudget()).isEqualTo("org"); // 1500/10000 is the highest utilisation
        assertThat(t.decision().remaining()).isEqualTo(8500);
        assertThat(t.budgetIds()).containsExactly("chat", "team", "org");
        assertThat(f.reservedTotal("org")).isEqualTo(1500);
    }

    @Test
    void rejectsWhenParentExhaustedEvenIfChildHasRoom() {
        EngineFixture f = new EngineFixture(TREE);
        // the other team spends most of the org's month
        Ticket big = f.engine.reserve(new BudgetRequest(f.key("k-other"), null, null, "m", 8000, 1000));
        f.engine.settle(big, TokenUsage.of(8000, 1000));
        Ticket t = f.reserve("k-team", "chat", 1000, 500); // team and chat have plenty of room
        assertThat(t.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(t.decision().reason()).isEqualTo(Decision.Reason.BUDGET_EXHAUSTED);
        assertThat(t.decision().bindingBudget()).isEqualTo("org");
        assertThat(t.decision().httpStatus()).isEqualTo(429);
        assertThat(t.decision().remaining()).isEqualTo(1000);
        // all or nothing: the child budgets were not charged by the refused request
        assertThat(f.reservedTotal("chat")).isZero();
        assertThat(f.reservedTotal("team")).isZero();
        // retry after the month resets: from 2 Nov 09:00 to 1 Dec 00:00 UTC
        long expected = Duration.between(EngineFixture.START, Instant.parse("2026-12-01T00:00:00Z")).toSeconds();
        assertThat(t.decision().retryAfterSeconds()).isEqualTo(expected);
        assertThat(f.events(BudgetEvent.RequestRejected.class)).hasSize(1);
    }

    @Test
    void aKeyUsingAFeatureItDoesNotOwnIsForbiddenNotFallenBack() {
        EngineFixture f = new EngineFixture(TREE);
        Ticket t = f.engine.reserve(new BudgetRequest(f.key("k-other"), "chat", null, "m", 10, 10));
        assertThat(t.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(t.decision().reason()).isEqualTo(Decision.Reason.FEATURE_FORBIDDEN);
        assertThat(t.decision().httpStatus()).isEqualTo(403);
        assertThat(f.reservedTotal("chat")).isZero();
        assertThat(f.reservedTotal("other")).isZero();
        // an unknown tag is just as forbidden, and is not echoed raw into messages
        Ticket u = f.reserve("k-team", "chat\r\nx-evil: 1", 10, 10);
        assertThat(u.decision().reason()).isEqualTo(Decision.Reason.FEATURE_FORBIDDEN);
        assertThat(u.decision().message()).doesNotContain("\r").doesNotContain("\n");
        // waiting does not cure a 403: no Retry-After
        assertThat(DecisionHeaders.forResponse(t.decision())).doesNotContainKey("Retry-After")
                .containsEntry("x-tokenbudget-decision", "reject");
    }

    @Test
    void settlingTwiceCountsOnce() {
        EngineFixture f = new EngineFixture(TREE);
        Ticket t = f.reserve("k-team", "chat", 1000, 1000);
        assertThat(f.engine.settle(t, TokenUsage.of(700, 300))).isEqualTo(SettleResult.Status.SETTLED);
        assertThat(f.engine.settle(t, TokenUsage.of(700, 300))).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        assertThat(f.engine.release(t)).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        assertThat(f.usedTotal("org")).isEqualTo(1000);
        assertThat(f.reservedTotal("org")).isZero();
    }

    @Test
    void releaseReturnsTheReservation() {
        EngineFixture f = new EngineFixture(TREE);
        Ticket t = f.reserve("k-team", "chat", 1000, 1000);
        assertThat(f.engine.release(t)).isEqualTo(SettleResult.Status.RELEASED);
        assertThat(f.usedTotal("org")).isZero();
        assertThat(f.reservedTotal("org")).isZero();
    }

    @Test
    void anExpiredLeaseIsChargedAtItsReservationOnceWithAnEvent() {
        EngineFixture f = new EngineFixture(TREE);
        Ticket t = f.reserve("k-team", "chat", 1200, 800);
        f.clock.advance(Duration.ofMinutes(11)); // lease_ttl defaults to 10m
        assertThat(f.engine.expireLeases()).isEqualTo(1);
        assertThat(f.engine.expireLeases()).isZero();
        assertThat(f.usedTotal("org")).isEqualTo(2000);
        assertThat(f.reservedTotal("org")).isZero();
        assertThat(f.events(BudgetEvent.LeaseExpired.class)).singleElement()
                .satisfies(e -> assertThat(e.charged().total()).isEqualTo(2000));
        // the late settlement of an expired lease changes nothing: it was already counted in full
        assertThat(f.engine.settle(t, TokenUsage.of(10, 10))).isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
        assertThat(f.usedTotal("org")).isEqualTo(2000);
    }

    @Test
    void leasesAreFoundInPassingWithoutASweeper() {
        EngineFixture f = new EngineFixture(TREE);
        f.reserve("k-team", "chat", 100, 100);
        f.clock.advance(Duration.ofMinutes(11));
        f.reserve("k-team", "chat", 1, 1); // the next call on the tree settles the dead lease
        assertThat(f.events(BudgetEvent.LeaseExpired.class)).hasSize(1);
        assertThat(f.usedTotal("org")).isEqualTo(200);
    }

    @Test
    void thresholdsFireOncePerWindowAndAgainInTheNextWindow() {
        EngineFixture f = new EngineFixture(TREE);
        for (int i = 0; i < 12; i++) {
            Ticket t = f.reserve("k-team", "chat", 400, 400);
            if (t.decision().admitted()) {
                f.engine.settle(t, TokenUsage.of(400, 400));
            }
        }
        // org: 10000 total; 12 x 800 would be 9600 -> 75 and 90 fire, 100 never reached
        assertThat(f.events(BudgetEvent.ThresholdCrossed.class).stream().filter(e -> e.budgetId().equals("org"))
                .map(BudgetEvent.ThresholdCrossed::percent)).containsExactly(75, 90);
        f.clock.setTo(Instant.parse("2026-12-01T00:00:01Z"));
        f.events.clear();
        for (int i = 0; i < 10; i++) {
            f.engine.settle(f.reserve("k-team", "chat", 400, 400), TokenUsage.of(400, 400));
        }
        assertThat(f.events(BudgetEvent.ThresholdCrossed.class).stream().filter(e -> e.budgetId().equals("org"))
                .map(BudgetEvent.ThresholdCrossed::percent)).containsExactly(75);
    }

    @Test
    void aPathPlannedOnceChargesEachRequestToTheWindowsOfItsOwnTime() {
        EngineFixture f = new EngineFixture(TREE);
        f.clock.setTo(Instant.parse("2026-11-02T23:55:00Z"));
        f.engine.settle(f.reserve("k-team", "chat", 300, 200), TokenUsage.of(300, 200));
        Ticket first = f.reserve("k-team", "chat", 100, 100);
        // the next day, within the first lease's 10 minutes: chat's day window is a new one, the months go on
        f.clock.advance(Duration.ofMinutes(6));
        Ticket next = f.reserve("k-team", "chat", 40, 60);
        f.engine.settle(next, TokenUsage.of(40, 60));
        assertThat(next.budgetIds()).containsExactly("chat", "team", "org");
        BudgetStatus.WindowStatus chat = f.engine.status("chat").orElseThrow().windows().get(0);
        assertThat(chat.start()).isEqualTo(Instant.parse("2026-11-03T00:00:00Z"));
        assertThat(chat.used().total()).isEqualTo(100);
        assertThat(f.usedTotal("org")).isEqualTo(600);
        // the first day's lease still settles into the first day's windows
        assertThat(f.engine.settle(first, TokenUsage.of(100, 100))).isEqualTo(SettleResult.Status.SETTLED);
        assertThat(f.engine.status("chat").orElseThrow().windows().get(0).used().total()).isEqualTo(100);
        assertThat(f.usedTotal("org")).isEqualTo(800);
    }

    @Test
    void degradesPastTheDegradeThresholdAndClampsToWhatRemains() {
        String yaml = """
                budgets:
                  - id: support
                    windows: [{ period: month, limits: { total: 10000 } }]
                    thresholds:
                      - { at: 75, policy: alert_only }
                      - { at: 90, policy: degrade_route }
                      - { at: 100, policy: degrade_route }
                    degrade:
                      models: { claude-opus-4-7: claude-haiku-4-5 }
                      max_output_tokens: 800
                      clamp_to_remaining: true
                keys:
                  - { name: k, sha256: %s, budget: support }
                """.formatted(sha("k"));
        EngineFixture f = new EngineFixture(yaml);
        Ticket first = f.engine.reserve(new BudgetRequest(f.key("k"), null, null, "claude-opus-4-7", 8000, 500));
        assertThat(first.decision().outcome()).isEqualTo(Decision.Outcome.ALLOW); // 85%
        Ticket second = f.engine.reserve(new BudgetRequest(f.key("k"), null, null, "claude-opus-4-7", 500, 500));
        assertThat(second.decision().outcome()).isEqualTo(Decision.Outcome.DEGRADE); // 95%
        RouteDirective d = second.decision().directive();
        assertThat(d.model()).isEqualTo("claude-haiku-4-5");
        assertThat(d.route()).isEqualTo("economy");
        assertThat(d.maxOutputTokens()).isEqualTo(500); // its own 500: 1,000 were left, max_output_tokens 800
        // past 100% a budget without hard_stop stays degraded and never rejects
        Ticket third = f.engine.reserve(new BudgetRequest(f.key("k"), null, null, "claude-opus-4-7", 5000, 500));
        assertThat(third.decision().outcome()).isEqualTo(Decision.Outcome.DEGRADE);
        assertThat(third.decision().directive().maxOutputTokens()).isEqualTo(500); // nothing left but its own
        assertThat(f.events(BudgetEvent.RequestDegraded.class)).hasSize(2);
        assertThat(DecisionHeaders.forUpstream(third.decision())).containsEntry("x-tokenbudget-route", "economy");
    }

    @Test
    void limitsChangeAtRunTimeWithoutARestart() {
        EngineFixture f = new EngineFixture(TREE);
        f.engine.settle(f.reserve("k-team", "chat", 4000, 4000), TokenUsage.of(4000, 4000));
        assertThat(f.reserve("k-team", "chat", 2000, 1000).decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
        f.engine.updateLimits("org", "month", Limits.total(20000));
        Ticket t = f.reserve("k-team", "chat", 2000, 1000);
        assertThat(t.decision().outcome()).isEqualTo(Decision.Outcome.ALLOW);
        assertThat(f.events(BudgetEvent.LimitsChanged.class)).hasSize(1);
        assertThatThrownBy(() -> f.engine.updateLimits("nope", "month", Limits.total(1)))
                .hasMessageContaining("unknown budget 'nope'");
        assertThatThrownBy(() -> f.engine.updateLimits("org", "week", Limits.total(1)))
                .hasMessageContaining("no window 'week'");
    }

    @Test
    void aRequestLargerThanTheLimitItselfSaysSo() {
        EngineFixture f = new EngineFixture(TREE);
        Ticket t = f.reserve("k-team", "chat", 20000, 1);
        assertThat(t.decision().reason()).isEqualTo(Decision.Reason.REQUEST_EXCEEDS_LIMIT);
        assertThat(t.decision().httpStatus()).isEqualTo(400);
        assertThat(t.decision().message()).contains("budget 'org' admits at most 10000");
    }

    @Test
    void headersCarryRemainingUtilisationAndRateLimitFields() {
        EngineFixture f = new EngineFixture(TREE);
        Ticket t = f.reserve("k-team", "chat", 1000, 500);
        var h = DecisionHeaders.forResponse(t.decision());
        assertThat(h).containsEntry("x-tokenbudget-decision", "allow")
                .containsEntry("x-tokenbudget-budget", "org")
                .containsEntry("x-tokenbudget-remaining-tokens", "8500")
                .containsEntry("x-tokenbudget-utilization", "0.1500");
        assertThat(h.get("RateLimit-Policy")).startsWith("\"org\";q=10000;w=");
        assertThat(h.get("RateLimit")).startsWith("\"org\";r=8500;t=");
        assertThat(h).doesNotContainKey("Retry-After");
        // 8,500 left: a request of 9,000 fits the month, not now
        Ticket r = f.reserve("k-team", "chat", 9000, 0);
        assertThat(DecisionHeaders.forResponse(r.decision())).containsKey("Retry-After")
                .containsEntry("x-tokenbudget-decision", "reject");
        // one larger than the whole month gets no retry time: waiting cannot help
        Ticket never = f.reserve("k-team", "chat", 50000, 1);
        assertThat(DecisionHeaders.forResponse(never.decision())).doesNotContainKey("Retry-After")
                .containsEntry("x-tokenbudget-decision", "reject")
                .containsEntry("RateLimit-Policy", h.get("RateLimit-Policy"));
    }

    @Test
    void unknownKeysDoNotAuthenticate() {
        EngineFixture f = new EngineFixture(TREE);
        assertThat(f.engine.authenticate("k-team")).isPresent();
        assertThat(f.engine.authenticate("k-teamx")).isEmpty();
        assertThat(f.engine.authenticate("")).isEmpty();
        assertThat(f.engine.authenticate(null)).isEmpty();
        assertThat(f.engine.authenticate(sha("k-team"))).isEmpty(); // the hash itself is not a key
    }
}
