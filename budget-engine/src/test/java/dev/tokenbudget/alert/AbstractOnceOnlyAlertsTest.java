package dev.tokenbudget.alert;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.forecast.Forecaster;
import dev.tokenbudget.forecast.InMemoryUsageHistory;
import dev.tokenbudget.forecast.WindowForecasts;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two engine instances sharing one store's state and claims, driven concurrently: every alert
 * fires once per budget, window and threshold, and re-arms in a new window and when the limit
 * changes. Each store supplies its fixture (in memory: one store object; Redis: two connections).
 */
public abstract class AbstractOnceOnlyAlertsTest {

    private static final String CONFIG = """
            defaults: { zone: UTC }
            budgets:
              - id: acme
                windows: [ { period: month, limits: { total: 100M } } ]
              - id: support
                parent: acme
                windows: [ { period: month, limits: { total: 1M } } ]
                thresholds: [ { at: 75 }, { at: 90 }, { at: 100, policy: hard_stop } ]
            keys:
              - name: support-key
                sha256: %s
                budget: acme
                features: [ support ]
                default_feature: support
            alerts:
              predictive: { min_history_days: 3 }
            """.formatted(KeyHash.of("k1"));

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-01T00:00:00Z"));
    private final InMemoryUsageHistory history = new InMemoryUsageHistory();
    private final List<Alert> alerts = new CopyOnWriteArrayList<>();
    private final List<Instance> instances = new ArrayList<>();

    /** One gateway instance: an engine and its evaluator. */
    private final class Instance {
        final BudgetEngine engine;
        final AlertEvaluator evaluator;
        final VirtualKey key;

        Instance(EngineConfig config) {
            engine = BudgetEngine.builder(config).store(newStore()).clock(clock).build();
            evaluator = new AlertEvaluator(engine, new WindowForecasts(new Forecaster(), history), newClaims(),
                    config.alerts());
            engine.subscribe(e -> alerts.addAll(evaluator.onEvent(e)));
            key = engine.authenticate("k1").orElseThrow();
        }

        void request(long tokens) {
            Ticket t = engine.reserve(new BudgetRequest(key, null, null, "m", tokens / 2, tokens / 2));
            if (t.decision().admitted()) {
                engine.settle(t, TokenUsage.of(tokens / 2, tokens / 2));
                history.record(t.budgetIds(), clock.now(), tokens / 2, tokens / 2);
            }
        }
    }

    /** The store of one instance: all instances' stores share their state. */
    protected abstract BudgetStore newStore();

    /** The claims of one instance: all instances' claims are shared. */
    protected abstract AlertClaims newClaims();

    @AfterEach
    void closeEngines() {
        instances.forEach(i -> i.engine.close());
    }

    @BeforeEach
    void twoInstances() {
        EngineConfig config = ConfigLoader.parse(CONFIG);
        instances.add(new Instance(config));
        instances.add(new Instance(config));
    }

    /** Both instances serve {@code perInstance} requests and then evaluate, concurrently. */
    private void day(int perInstance, long tokens) throws Exception {
        CyclicBarrier start = new CyclicBarrier(instances.size());
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        for (Instance in : instances) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < perInstance; i++) {
                        in.request(tokens);
                    }
                    start.await();
                    alerts.addAll(in.evaluator.evaluate(clock.now()));
                } catch (Exception e) {
                    failures.add(e);
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failures).isEmpty();
        clock.advance(Duration.ofDays(1));
    }

    private Map<String, Long> countsById() {
        return alerts.stream().collect(Collectors.groupingBy(Alert::id, Collectors.counting()));
    }

    private List<Alert> of(Alert.Kind kind) {
        return alerts.stream().filter(a -> a.kind() == kind).toList();
    }

    @Test
    void eachAlertFiresOncePerBudgetWindowAndThresholdAcrossInstances() throws Exception {
        for (int d = 0; d < 30; d++) {
            day(15, 2_000); // 60k tokens a day on a 1M month: the limit falls around day 17
        }
        assertThat(countsById()).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
        List<Alert> predicted = of(Alert.Kind.PREDICTED);
        assertThat(predicted).hasSize(1);
        Alert p = predicted.get(0);
        assertThat(p.budgetId()).isEqualTo("support");
        assertThat(p.window()).isEqualTo("month:2026-11");
        assertThat(p.exhaustion()).isBetween(Instant.parse("2026-11-15T00:00:00Z"),
                Instant.parse("2026-11-19T00:00:00Z"));
        assertThat(p.at()).isBefore(Instant.parse("2026-11-06T00:00:00Z"));
        assertThat(p.projection().expected()).isGreaterThan(1_000_000);
        assertThat(p.action()).contains("rejected with 429");
        // 60k a day against 1M: the whole band is above the limit, and the alert says so
        assertThat(p.projection().lower80()).isGreaterThan(1_000_000);
        assertThat(p.action()).contains("80% band").contains("all of it above the limit");
        assertThat(of(Alert.Kind.THRESHOLD)).extracting(Alert::threshold).containsExactlyInAnyOrder(75, 90, 100);
        assertThat(of(Alert.Kind.THRESHOLD)).allSatisfy(a -> assertThat(a.budgetId()).isEqualTo("support"));

        // December: the November incident resolves once, and the alerts re-arm for the new window
        for (int d = 0; d < 6; d++) {
            day(15, 2_000);
        }
        assertThat(countsById()).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
        assertThat(of(Alert.Kind.RESOLVED)).singleElement()
                .satisfies(a -> assertThat(a.dedupKey()).isEqualTo("tokenbudget/support/month:2026-11"));
        assertThat(of(Alert.Kind.PREDICTED)).extracting(Alert::window)
                .containsExactly("month:2026-11", "month:2026-12");
    }

    @Test
    void aLimitChangeReArmsThePrediction() throws Exception {
        for (int d = 0; d < 5; d++) {
            day(15, 2_000);
        }
        assertThat(of(Alert.Kind.PREDICTED)).hasSize(1);
        day(15, 2_000);
        assertThat(of(Alert.Kind.PREDICTED)).hasSize(1);
        for (Instance in : instances) {
            in.engine.updateLimits("support", "month", Limits.total(1_200_000));
        }
        day(15, 2_000);
        assertThat(of(Alert.Kind.PREDICTED)).hasSize(2);
        assertThat(of(Alert.Kind.PREDICTED).get(1).limit()).isEqualTo(1_200_000);
        assertThat(countsById()).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    }

    @Test
    void noPredictionBeforeEnoughHistory() throws Exception {
        for (int d = 0; d < 2; d++) {
            day(15, 2_000);
        }
        assertThat(of(Alert.Kind.PREDICTED)).isEmpty();
        Function<Alert, String> id = Alert::id;
        assertThat(alerts).extracting(id).isEmpty();
    }
}
