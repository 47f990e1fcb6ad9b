package dev.tokenbudget.config;

import dev.tokenbudget.allocation.AllocationSpec;
import dev.tokenbudget.allocation.HoldSpec;
import dev.tokenbudget.allocation.Oversubscription;
import dev.tokenbudget.allocation.RebalanceSpec;
import dev.tokenbudget.budget.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class AllocationConfigTest {

    private static final String TREE = """
            budgets:
              - id: workspace
                windows: [{ period: month, limits: { total: 1B } }]
                %s
              - id: support
                parent: workspace
                windows: [{ period: month, limits: { total: 400M } }]
                %s
              - id: internal
                parent: workspace
                windows: [{ period: month, limits: { total: %s } }]
            """;

    private static String tree(String parentExtra, String supportExtra, String internal) {
        return TREE.formatted(parentExtra, supportExtra, internal);
    }

    @Test
    void readsAllocationOverflowAndHolds() {
        EngineConfig c = ConfigLoader.parse(tree("""
                allocation:
                      oversubscription: reject
                      rebalance: { at: 50%, below: 40, share: 50%, max: 30% }
                      holds:
                        - { for: support, tokens: 60M }
                        - { id: last-week, tokens: { total: 20M }, for_last: 7d }""",
                "overflow: true\n    overflow_cap: 25%", "200M"));
        AllocationSpec a = c.budgets().get("workspace").orElseThrow().allocation().orElseThrow();
        assertThat(a.oversubscription()).isEqualTo(Oversubscription.REJECT);
        assertThat(a.rebalance()).isEqualTo(new RebalanceSpec(50, 40, 50, 30));
        assertThat(a.holds()).containsExactly(
                new HoldSpec("cfg-workspace-1", "month", "support", Limits.total(60_000_000), null),
                new HoldSpec("last-week", "month", null, Limits.total(20_000_000), Duration.ofDays(7)));
        var support = c.budgets().get("support").orElseThrow();
        assertThat(support.overflow().enabled()).isTrue();
        assertThat(support.overflow().capFor(Limits.total(400_000_000))).isEqualTo(Limits.total(100_000_000));
        assertThat(c.budgets().get("internal").orElseThrow().overflow().enabled()).isFalse();
    }

    @Test
    void theExampleAllocationConfigLoads() {
        EngineConfig c = ConfigLoader.load(java.nio.file.Path.of("../examples/config/allocation.yaml"));
        AllocationSpec a = c.budgets().get("workspace").orElseThrow().allocation().orElseThrow();
        assertThat(a.rebalance()).isEqualTo(new RebalanceSpec(50, 50, 50, 30));
        assertThat(a.holds()).containsExactly(new HoldSpec("last-week", "month", null, Limits.total(60_000_000),
                Duration.ofDays(7)));
        assertThat(c.budgets().get("support").orElseThrow().overflow().capFor(Limits.total(400_000_000)))
                .isEqualTo(Limits.total(120_000_000));
    }

    @Test
    void oversubscriptionIsAllowedUnlessRejected() {
        assertThat(ConfigLoader.parse(tree("", "", "700M")).budgets().budgets()).hasSize(3);
        assertThat(ConfigErrors.of("defaults: { oversubscription: reject }\n" + tree("", "", "700M"))).containsExactly(
                "budgets[0].windows[0].limits.total: the children of 'workspace' are allotted 1.1B total tokens per "
                        + "month (support 400M + internal 700M), more than its 1B; oversubscription is 'reject' (set "
                        + "allocation.oversubscription: allow on 'workspace' to permit it)");
        // a parent may allow it for itself against a rejecting default
        assertThat(ConfigLoader.parse("defaults: { oversubscription: reject }\n"
                + tree("allocation: { oversubscription: allow }", "", "700M")).budgets().budgets()).hasSize(3);
    }

    static Stream<Arguments> badAllocations() {
        return Stream.of(
                Arguments.of("overflow_cap without overflow", tree("", "overflow_cap: 10M", "200M"),
                        "budgets[1].overflow_cap: needs overflow: true"),
                Arguments.of("overflow on a root", """
                        budgets:
                          - id: a
                            overflow: true
                            windows: [{ period: month, limits: { total: 1M } }]
                        """, "budgets[0].overflow: a root budget has no parent pool"),
                Arguments.of("overflow without a parent window of the same period", """
                        budgets:
                          - id: a
                            windows: [{ period: month, limits: { total: 1M } }]
                          - id: b
                            parent: a
                            overflow: true
                            windows: [{ period: day, limits: { total: 1k } }]
                        """, "budgets[1].overflow: parent 'a' has no calendar window of the same period"),
                Arguments.of("overflow on a budget that never rejects", """
                        budgets:
                          - id: a
                            windows: [{ period: month, limits: { total: 1M } }]
                          - id: b
                            parent: a
                            overflow: true
                            thresholds: [{ at: 100, policy: alert_only }]
                            windows: [{ period: month, limits: { total: 1k } }]
                        """, "budgets[1].overflow: needs a hard_stop threshold"),
                Arguments.of("bad overflow cap", tree("", "overflow: true\n    overflow_cap: 0%", "200M"),
                        "budgets[1].overflow_cap: must be a percent in 1..1000 such as 50%, was '0%'"),
                Arguments.of("rebalance point out of range", tree("allocation: { rebalance: { at: 100% } }", "",
                        "200M"), "budgets[0].allocation.rebalance.at: must be a percent in 1..99"),
                Arguments.of("hold for a budget that is not a child", """
                        budgets:
                          - id: a
                            windows: [{ period: month, limits: { total: 1M } }]
                            allocation: { holds: [{ for: c, tokens: 1k }] }
                          - id: b
                            parent: a
                            windows: [{ period: month, limits: { total: 1k } }]
                          - id: c
                            parent: b
                            windows: [{ period: month, limits: { total: 1k } }]
                        """, "budgets[0].allocation.holds[0].for: 'c' is not a child of 'a'"),
                Arguments.of("hold for an unknown budget", tree("allocation: { holds: [{ for: nope, tokens: 1M }] }",
                        "", "200M"), "budgets[0].allocation.holds[0].for: unknown budget 'nope'"),
                Arguments.of("hold in a dimension the window does not limit",
                        tree("allocation: { holds: [{ for: support, tokens: { input: 1M } }] }", "", "200M"),
                        "budgets[0].allocation.holds[0].tokens: holds input tokens, but window 'month' does not "
                                + "limit input tokens"),
                Arguments.of("hold released after the shortest month",
                        tree("allocation: { holds: [{ tokens: 1M, for_last: 30d }] }", "", "200M"),
                        "budgets[0].allocation.holds[0].for_last: must be > 0 and shorter than the shortest month"),
                Arguments.of("hold for nobody and no time", tree("allocation: { holds: [{ tokens: 1M }] }", "",
                        "200M"), "budgets[0].allocation.holds[0]: needs 'for'"),
                Arguments.of("hold on a window that is not there",
                        tree("allocation: { holds: [{ window: week, for: support, tokens: 1M }] }", "", "200M"),
                        "budgets[0].allocation.holds[0].window: no calendar window named 'week'"),
                Arguments.of("duplicate hold ids", tree("allocation: { holds: [{ id: x, for: support, tokens: 1M }, "
                        + "{ id: x, for_last: 1d, tokens: 1M }] }", "", "200M"),
                        "budgets[0].allocation.holds[1].id: duplicate hold id 'x'"),
                Arguments.of("unknown allocation field", tree("allocation: { overflow: true }", "", "200M"),
                        "budgets[0].allocation.overflow: unknown field; allowed here: holds, oversubscription, "
                                + "rebalance"),
                Arguments.of("bad oversubscription value", tree("allocation: { oversubscription: maybe }", "",
                        "200M"), "budgets[0].allocation.oversubscription: must be one of allow, reject, was 'maybe'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badAllocations")
    void badAllocationConfigsNameThePathAndTheProblem(String what, String yaml, String expected) {
        assertThat(ConfigErrors.of(yaml)).as(what).anySatisfy(m -> assertThat(m).startsWith(expected));
    }
}
