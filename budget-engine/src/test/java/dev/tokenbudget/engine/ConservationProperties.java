package dev.tokenbudget.engine;

import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.usage.TokenUsage;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.tokenbudget.engine.EngineFixture.sha;
import static org.assertj.core.api.Assertions.assertThat;

/** Random sequences of reserve, settle, release, duplicate settle and lease expiry. */
class ConservationProperties {

    private static final String YAML = """
            budgets:
              - id: org
                windows:
                  - { period: month, limits: { total: 60000 } }
                  - { period: rolling, length: 2h, limits: { input: 30000 } }
              - id: team
                parent: org
                windows: [{ period: day, limits: { output: 20000 } }]
            keys:
              - { name: k, sha256: %s, budget: team }
            """.formatted(sha("k"));

    enum Op { RESERVE, SETTLE, SETTLE_AGAIN, RELEASE, ADVANCE }

    record Step(Op op, int in, int out, int pick) {
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> step = Combinators.combine(
                Arbitraries.of(Op.class),
                Arbitraries.integers().between(0, 3000),
                Arbitraries.integers().between(0, 3000),
                Arbitraries.integers().between(0, 1000)).as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(120);
    }

    @Property(tries = 300)
    void usedEqualsTheSumOfSettlementsAndCapsHold(@ForAll("steps") List<Step> steps) {
        EngineFixture f = new EngineFixture(YAML);
        List<Ticket> open = new ArrayList<>();
        List<Ticket> done = new ArrayList<>();
        long settledOrExpired = 0;
        long expiredCharge = 0;
        for (Step s : steps) {
            switch (s.op()) {
                case RESERVE -> {
                    Ticket t = f.reserve("k", null, s.in(), s.out());
                    if (t.decision().admitted()) {
                        open.add(t);
                    }
                }
                case SETTLE, RELEASE -> {
                    if (!open.isEmpty()) {
                        Ticket t = open.remove(s.pick() % open.size());
                        if (s.op() == Op.RELEASE) {
                            f.engine.release(t);
                        } else {
                            long in = Math.min(s.in(), t.reservedInput());
                            long out = Math.min(s.out(), t.reservedOutput());
                            if (f.engine.settle(t, TokenUsage.of(in, out)) == SettleResult.Status.SETTLED) {
                                settledOrExpired += in + out;
                            }
                        }
                        done.add(t);
                    }
                }
                case SETTLE_AGAIN -> {
                    if (!done.isEmpty()) {
                        Ticket t = done.get(s.pick() % done.size());
                        assertThat(f.engine.settle(t, TokenUsage.of(1, 1)))
                                .isEqualTo(SettleResult.Status.UNKNOWN_LEASE);
                    }
                }
                case ADVANCE -> {
                    f.clock.advance(Duration.ofMinutes(s.pick() % 30));
                    f.engine.expireLeases();
                }
            }
        }
        f.clock.advance(Duration.ofMinutes(11));
        f.engine.expireLeases();
        expiredCharge = f.events(dev.tokenbudget.event.BudgetEvent.LeaseExpired.class).stream()
                .mapToLong(e -> e.charged().total()).sum();
        // every admitted ticket ended exactly once: settled, released, or expired at its reservation.
        // Nothing is reserved any more, and the month's usage is exactly what settled plus what expired.
        assertThat(f.reservedTotal("org")).isZero();
        assertThat(f.usedTotal("org")).isEqualTo(settledOrExpired + expiredCharge);
        assertThat(f.usedTotal("org")).isLessThanOrEqualTo(60000);
        assertThat(f.engine.status("team").orElseThrow().windows().get(0).used().output()).isLessThanOrEqualTo(20000);
    }
}
