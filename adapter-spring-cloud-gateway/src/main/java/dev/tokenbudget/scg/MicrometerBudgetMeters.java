package dev.tokenbudget.scg;

import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.telemetry.BudgetMeters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The engine's instruments ({@link BudgetMeters}: same names, same tag keys as the OpenTelemetry
 * ones) on the application's Micrometer registry, so that Actuator's Prometheus endpoint and every
 * other Micrometer registry see them without extra code. Spring Boot binds it to the registry
 * once the registry exists; what happens before that (nothing, before the first request) is not
 * counted. Meters are looked up once per tag set and kept.
 */
final class MicrometerBudgetMeters implements BudgetMeters, MeterBinder {

    private volatile MeterRegistry registry;
    private volatile Snapshot status;
    private final Map<String, Counter[]> tokens = new ConcurrentHashMap<>();
    private final Map<OutcomeReason, Counter> decisions = new ConcurrentHashMap<>();
    private final Map<String, Counter> alerts = new ConcurrentHashMap<>();
    private final Map<String, Timer> storeCalls = new ConcurrentHashMap<>();
    private final Map<String, Gauge> gauges = new ConcurrentHashMap<>();

    @Override
    public void bindTo(MeterRegistry r) {
        this.registry = r;
        Snapshot s = status;
        if (s != null) {
            registerGauges(r, s);
        }
    }

    @Override
    public void tokens(String budgetId, long input, long output) {
        MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        Counter[] c = tokens.computeIfAbsent(budgetId, b -> new Counter[]{
                tokenCounter(r, b, "input"), tokenCounter(r, b, "output")});
        c[0].increment(input);
        c[1].increment(output);
    }

    private static Counter tokenCounter(MeterRegistry r, String budgetId, String direction) {
        return Counter.builder(TOKENS).description("Tokens settled, by budget and direction")
                .tag(BUDGET, budgetId).tag(DIRECTION, direction).register(r);
    }

    @Override
    public void decision(Decision.Outcome outcome, Decision.Reason reason) {
        MeterRegistry r = registry;
        if (r != null) {
            decisions.computeIfAbsent(new OutcomeReason(outcome, reason), k -> Counter.builder(DECISIONS)
                    .description("Admission decisions, by outcome and reason")
                    .tag(OUTCOME, lower(outcome)).tag(REASON, lower(reason)).register(r)).increment();
        }
    }

    @Override
    public void alert(String budgetId, int percent) {
        MeterRegistry r = registry;
        if (r != null) {
            alerts.computeIfAbsent(budgetId + "\n" + percent, k -> Counter.builder(ALERTS)
                    .description("Thresholds crossed, by budget and threshold")
                    .tag(BUDGET, budgetId).tag(THRESHOLD, Integer.toString(percent)).register(r)).increment();
        }
    }

    @Override
    public void storeCall(String operation, long nanos) {
        MeterRegistry r = registry;
        if (r != null) {
            storeCalls.computeIfAbsent(operation, op -> Timer.builder(STORE_LATENCY)
                    .description("Time a budget store call took, by operation").tag(OPERATION, op).register(r))
                    .record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void observeUtilisation(Supplier<List<BudgetStatus>> source) {
        Snapshot s = new Snapshot(source);
        this.status = s;
        MeterRegistry r = registry;
        if (r != null) {
            registerGauges(r, s);
        }
    }

    /** One gauge per budget known now (per-user budgets excluded), each reading the engine's status. */
    private void registerGauges(MeterRegistry r, Snapshot s) {
        for (BudgetStatus b : s.get()) {
            String id = b.budgetId();
            if (id.startsWith("user:")) {
                continue;
            }
            gauges.computeIfAbsent(id, k -> Gauge.builder(UTILIZATION, s, snapshot -> snapshot.utilisation(id))
                    .description("Highest utilisation of any window of a budget (1 = 100%)")
                    .tag(BUDGET, id).register(r));
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private record OutcomeReason(Decision.Outcome outcome, Decision.Reason reason) {
    }

    /**
     * The engine's status, read at most once a second however many gauges a scrape reads: each
     * reading may be a store round trip.
     */
    private static final class Snapshot {
        private final Supplier<List<BudgetStatus>> source;
        private volatile List<BudgetStatus> last = List.of();
        private volatile long readAt = Long.MIN_VALUE / 2;

        Snapshot(Supplier<List<BudgetStatus>> source) {
            this.source = source;
        }

        synchronized List<BudgetStatus> get() {
            long now = System.nanoTime();
            if (now - readAt >= TimeUnit.SECONDS.toNanos(1)) {
                last = source.get();
                readAt = now;
            }
            return last;
        }

        double utilisation(String budgetId) {
            for (BudgetStatus b : get()) {
                if (b.budgetId().equals(budgetId)) {
                    return b.utilisation();
                }
            }
            return Double.NaN;
        }
    }
}
