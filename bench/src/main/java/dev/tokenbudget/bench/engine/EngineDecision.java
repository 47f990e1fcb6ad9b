package dev.tokenbudget.bench.engine;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.usage.TokenUsage;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * JMH (not a test): one decision on the in-memory store, {@code reserve} then {@code settle},
 * over a three-level path (team below product below org, a calendar month each), beside the
 * least any shared counter can do: a {@code ConcurrentHashMap<String, LongAdder>} increment of the
 * same three keys. Run by {@link EngineBench}.
 */
@State(Scope.Benchmark)
public class EngineDecision {

    /** The config: a three-level path and the key {@code sk-bench}; shared by the gateway path bench. */
    public static final String CONFIG = """
            version: 1
            budgets:
              - id: org
                windows: [{period: month, limits: {total: 1000000B}}]
              - id: product
                parent: org
                windows: [{period: month, limits: {total: 1000000B}}]
              - id: team
                parent: product
                windows: [{period: month, limits: {total: 1000000B}}]
                thresholds: [{at: 75, policy: alert_only}, {at: 90, policy: alert_only}, {at: 100, policy: hard_stop}]
            keys:
              - {name: bench, sha256: %s, budget: team}
            """.formatted(KeyHash.of("sk-bench"));

    private static final TokenUsage USAGE = TokenUsage.of(420, 250);

    private BudgetEngine engine;
    private BudgetRequest request;
    private final ConcurrentHashMap<String, LongAdder> counters = new ConcurrentHashMap<>();

    @Setup
    public void setUp() {
        engine = BudgetEngine.inMemory(ConfigLoader.parse(CONFIG));
        VirtualKey key = engine.authenticate("sk-bench").orElseThrow();
        request = new BudgetRequest(key, null, null, "gpt-4o", 500, 300);
        Ticket t = engine.reserve(request);
        if (t.decision().outcome() != Decision.Outcome.ALLOW || t.budgetIds().size() != 3) {
            throw new IllegalStateException("expected an admitted three-budget path, got " + t.decision() + " on "
                    + t.budgetIds());
        }
        engine.settle(t, USAGE);
    }

    @TearDown
    public void tearDown() {
        engine.close();
    }

    /** reserve + settle: one admitted decision and its settlement on three budgets. */
    @Benchmark
    public Object reserveSettle() {
        Ticket t = engine.reserve(request);
        engine.settle(t, USAGE);
        return t;
    }

    /** The reference: add to three shared counters, nothing else. */
    @Benchmark
    public long mapIncrement() {
        counters.computeIfAbsent("org", k -> new LongAdder()).add(670);
        counters.computeIfAbsent("product", k -> new LongAdder()).add(670);
        LongAdder team = counters.computeIfAbsent("team", k -> new LongAdder());
        team.add(670);
        return team.sum();
    }
}
