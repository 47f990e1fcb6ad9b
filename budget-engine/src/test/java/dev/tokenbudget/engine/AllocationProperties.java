package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.store.AbstractBudgetStoreTest;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.usage.TokenUsage;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.statistics.Statistics;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.tokenbudget.engine.EngineFixture.sha;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Conservation under cross-team allocation, over random trees (a root, 2-4 children, maybe
 * grandchildren; random limits, overflow flags and caps, a rebalance, a config hold) and random
 * traffic (reserve, settle at or below the reservation, release, lease expiry, time passing the
 * rebalance point, run-time holds made and deleted): after every step
 * <ul>
 *   <li>every budget's used tokens are exactly what was settled or expired on it;</li>
 *   <li>every pool balances: its use is the sum of its children's draws, each draw is
 *       {@code max(0, committed − (cap − given))} for an overflowing child and 0 for an isolated one,
 *       at most its overflow cap, and the use at most headroom + contributions;</li>
 *   <li>contributions are exactly what the ledger says the rebalances moved;</li>
 *   <li>no budget's committed tokens pass its cap less what it gave plus what it draws, nor the root's limit;</li>
 *   <li>right after a request is admitted, the holds its path does not benefit from still fit under the caps.</li>
 * </ul>
 */
class AllocationProperties {

    record Node(String id, String parent, long limit, boolean overflow, int capPercent) {
    }

    record TreeSpec(List<Node> nodes, boolean rebalance, int holdFor, long holdTokens) {
    }

    enum Op { RESERVE, SETTLE, RELEASE, ADVANCE, EXPIRE, HOLD, UNHOLD }

    record Step(Op op, int who, int amount, int pick) {
    }

    @Provide
    Arbitrary<TreeSpec> trees() {
        Arbitrary<Node> child = Combinators.combine(Arbitraries.longs().between(2_000, 40_000),
                Arbitraries.of(true, false), Arbitraries.of(-1, 10, 50, 100)).as((l, o, c) -> new Node(null, null, l, o,
                c));
        return Combinators.combine(Arbitraries.longs().between(20_000, 100_000), child.list().ofMinSize(2).ofMaxSize(4),
                child.list().ofMaxSize(2), Arbitraries.of(true, false), Arbitraries.integers().between(-1, 3),
                Arbitraries.longs().between(1_000, 20_000)).as((rootLimit, kids, grandkids, rebalance, holdFor,
                                                                 holdTokens) -> {
                    List<Node> nodes = new ArrayList<>();
                    nodes.add(new Node("org", null, rootLimit, false, -1));
                    for (int i = 0; i < kids.size(); i++) {
                        Node k = kids.get(i);
                        nodes.add(new Node("c" + i, "org", k.limit(), k.overflow(), k.capPercent()));
                    }
                    for (int i = 0; i < grandkids.size(); i++) {
                        Node g = grandkids.get(i);
                        nodes.add(new Node("g" + i, "c0", g.limit() / 4, g.overflow(), g.capPercent()));
                    }
                    return new TreeSpec(nodes, rebalance, holdFor < 0 ? -1 : holdFor % kids.size(), holdTokens);
                });
    }

    @Provide
    Arbitrary<List<Step>> traffic() {
        Arbitrary<Step> step = Combinators.combine(
                Arbitraries.frequency(Tuple.of(8, Op.RESERVE), Tuple.of(5, Op.SETTLE), Tuple.of(2, Op.RELEASE),
                        Tuple.of(3, Op.ADVANCE), Tuple.of(1, Op.EXPIRE), Tuple.of(1, Op.HOLD), Tuple.of(1, Op.UNHOLD)),
                Arbitraries.integers().between(0, 50),
                Arbitraries.integers().between(1, 12_000),
                Arbitraries.integers().between(0, 1_000)).as(Step::new);
        return step.list().ofMinSize(10).ofMaxSize(80);
    }

    /** Hours after 2 November 09:00 the traffic starts: before and after mid-month alike. */
    @Provide
    Arbitrary<Integer> startHours() {
        return Arbitraries.integers().between(0, 500).withDistribution(RandomDistribution.uniform());
    }

    static String yaml(TreeSpec t) {
        StringBuilder b = new StringBuilder("defaults: { zone: UTC }\nbudgets:\n");
        for (Node n : t.nodes()) {
            b.append("  - id: ").append(n.id()).append('\n');
            if (n.parent() != null) {
                b.append("    parent: ").append(n.parent()).append('\n');
            }
            b.append("    windows: [{ period: month, limits: { total: ").append(n.limit()).append(" } }]\n");
            if (n.overflow()) {
                b.append("    overflow: true\n");
                if (n.capPercent() > 0) {
                    b.append("    overflow_cap: ").append(n.capPercent()).append("%\n");
                }
            }
            if (n.id().equals("org")) {
                b.append(t.rebalance() || t.holdFor() >= 0 ? "    allocation:\n" : "    allocation: {}\n");
                if (t.rebalance()) {
                    b.append("      rebalance: { at: 50%, below: 50%, share: 50%, max: 30% }\n");
                }
                if (t.holdFor() >= 0) {
                    b.append("      holds: [{ id: cfg-hold, for: c").append(t.holdFor()).append(", tokens: ")
                            .append(t.holdTokens()).append(" }]\n");
                }
            }
        }
        b.append("keys:\n");
        for (Node n : t.nodes()) {
            b.append("  - { name: k-").append(n.id()).append(", sha256: ").append(sha("s-" + n.id()))
                    .append(", budget: ").append(n.id()).append(" }\n");
        }
        return b.toString();
    }

    @Property(tries = 150)
    void poolsBalanceCapsHoldAndUsedIsWhatWasSettled(@ForAll("trees") TreeSpec tree,
                                                     @ForAll("traffic") List<Step> steps,
                                                     @ForAll("startHours") int startHour) {
        // the fixture starts on 2 November: all traffic stays within November (mid-month: the 15th, 12:00)
        EngineFixture f = new EngineFixture(yaml(tree));
        f.clock.advance(Duration.ofHours(startHour));
        Instant monthEnd = Instant.parse("2026-12-01T00:00:00Z");
        Map<String, Long> charged = new HashMap<>();
        List<Ticket> open = new ArrayList<>();
        List<Hold> runtimeHolds = new ArrayList<>();
        int expiredSeen = 0;
        for (Step s : steps) {
            Node who = tree.nodes().get(s.who() % tree.nodes().size());
            switch (s.op()) {
                case RESERVE -> {
                    Ticket t = f.engine.reserve(new BudgetRequest(f.key("s-" + who.id()), null, null, "m", s.amount(),
                            s.pick() % 500));
                    if (t.decision().admitted()) {
                        open.add(t);
                        checkHoldsAfterAdmission(f, tree, t);
                    }
                    Statistics.label("decisions").collect(t.decision().allocation().usedPool() ? "drew from a pool"
                            : t.decision().allocation().usedHold() ? "used a hold"
                            : t.decision().allocation().cause() == null ? "admitted"
                            : "refused: " + t.decision().allocation().cause());
                }
                case SETTLE, RELEASE -> {
                    if (!open.isEmpty()) {
                        Ticket t = open.remove(s.pick() % open.size());
                        if (s.op() == Op.RELEASE) {
                            f.engine.release(t);
                        } else {
                            long in = t.reservedInput() * (s.pick() % 101) / 100;
                            long out = t.reservedOutput() * (s.amount() % 101) / 100;
                            if (f.engine.settle(t, TokenUsage.of(in, out)) == SettleResult.Status.SETTLED) {
                                t.budgetIds().forEach(b -> charged.merge(b, in + out, Long::sum));
                            }
                        }
                    }
                }
                case ADVANCE -> {
                    Duration d = Duration.ofHours(1 + s.pick() % 48);
                    if (f.clock.now().plus(d).isBefore(monthEnd.minus(Duration.ofHours(1)))) {
                        f.clock.advance(d);
                    }
                }
                case EXPIRE -> f.engine.expireLeases();
                case HOLD -> {
                    String forChild = "c" + (s.pick() % (int) tree.nodes().stream()
                            .filter(n -> "org".equals(n.parent())).count());
                    Instant until = f.clock.now().plus(Duration.ofHours(1 + s.pick() % 200));
                    if (until.isBefore(monthEnd)) {
                        runtimeHolds.add(f.engine.reservations().create(HoldRequest.forChild("org", forChild,
                                Limits.total(s.amount())).until(until)));
                    }
                }
                case UNHOLD -> {
                    if (!runtimeHolds.isEmpty()) {
                        Hold h = runtimeHolds.remove(s.pick() % runtimeHolds.size());
                        f.engine.reservations().delete("org", h.id(), "test", "property");
                    }
                }
            }
            List<BudgetEvent.LeaseExpired> expired = f.events(BudgetEvent.LeaseExpired.class);
            for (BudgetEvent.LeaseExpired e : expired.subList(expiredSeen, expired.size())) {
                e.budgetIds().forEach(b -> charged.merge(b, e.charged().total(), Long::sum));
                open.removeIf(t -> t.leaseId().equals(e.leaseId()));
            }
            expiredSeen = expired.size();
            checkConservation(f, tree, charged);
            checkPools(f, tree);
        }
        Statistics.label("rebalanced").collect(f.engine.ledger().after(0, 1000, null).stream()
                .anyMatch(e -> e.change().kind() == LedgerChange.Kind.REBALANCE));
        // the traffic reaches every rule often enough to mean something
        Statistics.label("rebalanced").coverage(c -> c.check(true).count(n -> n >= 5));
        Statistics.label("decisions").coverage(c -> {
            c.check("drew from a pool").count(n -> n >= 10);
            c.check("refused: POOL").count(n -> n >= 5);
            c.check("refused: HOLD").count(n -> n >= 5);
            c.check("used a hold").count(n -> n >= 10);
        });
    }

    private static void checkConservation(EngineFixture f, TreeSpec tree, Map<String, Long> charged) {
        for (Node n : tree.nodes()) {
            assertThat(f.usedTotal(n.id())).as("used of %s", n.id()).isEqualTo(charged.getOrDefault(n.id(), 0L));
        }
    }

    private static void checkPools(EngineFixture f, TreeSpec tree) {
        long ledgerContributions = f.engine.ledger().after(0, 1000, null).stream()
                .filter(e -> e.change().kind() == LedgerChange.Kind.REBALANCE && e.change().budgetId().startsWith("c"))
                .mapToLong(e -> AbstractBudgetStoreTest.given(e).total()).sum();
        for (Node parent : tree.nodes()) {
            AllocationStatus a = f.engine.allocation(parent.id()).orElseThrow();
            if (a.pools().isEmpty()) {
                continue;
            }
            AllocationStatus.Pool pool = a.pools().get(0);
            long draws = 0;
            for (AllocationStatus.Child c : pool.children()) {
                Node n = tree.nodes().stream().filter(x -> x.id().equals(c.budgetId())).findFirst().orElseThrow();
                long own = n.limit() - c.given().total();
                long expected = n.overflow() ? Math.max(0, c.committed().total() - own) : 0;
                assertThat(c.draw().total()).as("draw of %s", n.id()).isEqualTo(expected);
                if (n.capPercent() > 0) {
                    assertThat(c.draw().total()).isLessThanOrEqualTo(n.limit() * n.capPercent() / 100);
                }
                assertThat(c.committed().total()).as("committed of %s", n.id()).isLessThanOrEqualTo(own
                        + c.draw().total());
                draws += c.draw().total();
            }
            assertThat(pool.used().total()).as("pool of %s", parent.id()).isEqualTo(draws)
                    .isLessThanOrEqualTo(pool.headroom().total() + pool.contributions().total());
            assertThat(pool.remaining().total()).isEqualTo(pool.headroom().total() + pool.contributions().total()
                    - pool.used().total());
            if (parent.id().equals("org")) {
                assertThat(pool.contributions().total()).isEqualTo(ledgerContributions);
                long committed = f.engine.status("org").orElseThrow().windows().get(0).used().total()
                        + f.reservedTotal("org");
                assertThat(committed).isLessThanOrEqualTo(parent.limit());
            }
        }
    }

    /** Right after an admission, the holds of the root its path does not benefit from still fit. */
    private static void checkHoldsAfterAdmission(EngineFixture f, TreeSpec tree, Ticket t) {
        AllocationStatus.Pool pool = f.engine.allocation("org").orElseThrow().pools().get(0);
        long kept = 0;
        for (AllocationStatus.HoldStatus h : pool.holds()) {
            if (h.hold().forBudget() == null || !t.budgetIds().contains(h.hold().forBudget())) {
                kept += h.unconsumed().total();
            }
        }
        long committed = f.usedTotal("org") + f.reservedTotal("org");
        long limit = tree.nodes().get(0).limit();
        if (t.budgetIds().contains("org") && kept > 0) {
            assertThat(committed + kept).as("org committed plus holds kept from %s", t.budgetIds())
                    .isLessThanOrEqualTo(limit);
        }
    }
}
