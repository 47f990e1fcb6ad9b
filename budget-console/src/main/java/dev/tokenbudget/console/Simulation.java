package dev.tokenbudget.console;

import dev.tokenbudget.alert.Alert;
import dev.tokenbudget.alert.AlertEvaluator;
import dev.tokenbudget.alert.InMemoryAlertClaims;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.forecast.Forecaster;
import dev.tokenbudget.forecast.InMemoryUsageHistory;
import dev.tokenbudget.forecast.WindowForecasts;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replays a trace through a real {@link BudgetEngine} on a {@link ManualClock} with the in-memory
 * store: each request is reserved and then settled with its reported usage (or rejected), alerts
 * are raised by the same {@link AlertEvaluator} a gateway runs, evaluated every
 * {@code evaluateEvery} of simulated time. Records the timeline and per-budget totals.
 */
final class Simulation {

    /** One line of the timeline. */
    record Entry(Instant at, String type, String budget, String window, String detail, Alert alert, long[] count) {
    }

    /** Tokens served (admitted, degraded included), degraded and rejected, per budget. */
    static final class Totals {
        long served;
        long degraded;
        long rejected;
        long requests;
        long rejectedRequests;
    }

    /** What a simulation produced. */
    record Result(int requests, Instant first, Instant last, List<Entry> timeline, Map<String, Totals> budgets,
                  List<Alert> alerts, InMemoryUsageHistory history, int unknownKeys) {
    }

    private final EngineConfig config;
    private final Duration evaluateEvery;

    Simulation(EngineConfig config, Duration evaluateEvery) {
        this.config = config;
        this.evaluateEvery = evaluateEvery;
    }

    Result run(List<TraceCsv.Row> rows) {
        Instant first = rows.get(0).at();
        ManualClock clock = new ManualClock(first.truncatedTo(ChronoUnit.HOURS));
        InMemoryUsageHistory history = new InMemoryUsageHistory(Duration.ofDays(400));
        List<Entry> timeline = new ArrayList<>();
        List<Alert> alerts = new ArrayList<>();
        Map<String, Totals> totals = new LinkedHashMap<>();
        Map<String, long[]> firsts = new HashMap<>();
        Map<String, VirtualKey> keys = new HashMap<>();
        config.keys().forEach(k -> keys.put(k.name(), k));
        int unknown = 0;
        try (BudgetEngine engine = BudgetEngine.builder(config).store(new InMemoryBudgetStore()).clock(clock).build()) {
            AlertEvaluator evaluator = new AlertEvaluator(engine, new WindowForecasts(new Forecaster(), history),
                    new InMemoryAlertClaims(), config.alerts());
            engine.subscribe(e -> {
                if (e instanceof BudgetEvent.ThresholdCrossed t) {
                    timeline.add(new Entry(t.at(), "threshold", t.budgetId(), t.windowKey(), t.percent() + "%", null,
                            null));
                    for (Alert a : evaluator.onEvent(e)) {
                        alerts.add(a);
                        timeline.add(new Entry(a.at(), "alert", a.budgetId(), a.window(), a.kind().label(), a, null));
                    }
                }
            });
            Instant nextEval = clock.now().plus(evaluateEvery);
            for (TraceCsv.Row row : rows) {
                while (!nextEval.isAfter(row.at())) {
                    clock.setTo(nextEval);
                    engine.expireLeases();
                    for (Alert a : evaluator.evaluate(nextEval)) {
                        alerts.add(a);
                        timeline.add(new Entry(a.at(), "alert", a.budgetId(), a.window(), a.kind().label(), a, null));
                    }
                    nextEval = nextEval.plus(evaluateEvery);
                }
                if (row.at().isAfter(clock.now())) {
                    clock.setTo(row.at());
                }
                VirtualKey key = keys.get(row.key());
                if (key == null) {
                    unknown++;
                    continue;
                }
                long tokens = row.input() + row.output();
                Ticket t = engine.reserve(new BudgetRequest(key, row.feature(), row.user(), row.model(), row.input(),
                        row.maxTokens()));
                Decision d = t.decision();
                if (d.admitted()) {
                    engine.settle(t, TokenUsage.of(row.input(), row.output()));
                    history.record(t.budgetIds(), clock.now(), row.input(), row.output());
                    for (String id : t.budgetIds()) {
                        Totals s = totals.computeIfAbsent(id, x -> new Totals());
                        s.served += tokens;
                        s.requests++;
                        if (d.outcome() == Decision.Outcome.DEGRADE) {
                            s.degraded += tokens;
                        }
                    }
                    if (d.outcome() == Decision.Outcome.DEGRADE) {
                        mark(timeline, firsts, "degrade", d, clock.now(), "route " + d.directive().route()
                                + (d.directive().model() == null ? "" : ", " + row.model() + " -> "
                                + d.directive().model()));
                    }
                } else {
                    for (String id : path(key, row)) {
                        Totals s = totals.computeIfAbsent(id, x -> new Totals());
                        s.rejected += tokens;
                        s.rejectedRequests++;
                    }
                    mark(timeline, firsts, "reject", d, clock.now(), d.reason().name().toLowerCase(java.util.Locale.ROOT)
                            + " (HTTP " + d.httpStatus() + ")");
                }
            }
            Instant last = rows.get(rows.size() - 1).at();
            timeline.sort((a, b) -> a.at().compareTo(b.at()));
            return new Result(rows.size() - unknown, first, last, timeline, totals, alerts, history, unknown);
        }
    }

    /** The first degradation or rejection per budget window goes on the timeline; later ones are counted. */
    private static void mark(List<Entry> timeline, Map<String, long[]> firsts, String type, Decision d, Instant at,
                             String detail) {
        String k = type + "/" + d.bindingBudget() + "/" + d.bindingWindow();
        long[] count = firsts.get(k);
        if (count == null) {
            count = new long[1];
            firsts.put(k, count);
            timeline.add(new Entry(at, type, d.bindingBudget(), d.bindingWindow(), detail, null, count));
        }
        count[0]++;
    }

    /** The budgets a request would have been charged to: its feature's chain and the key's own budget. */
    private Set<String> path(VirtualKey key, TraceCsv.Row row) {
        Set<String> ids = new LinkedHashSet<>();
        key.own().ifPresent(b -> ids.add(b.id()));
        String start = row.feature() != null && key.features().contains(row.feature()) ? row.feature()
                : key.defaultFeature() != null ? key.defaultFeature() : key.budget();
        for (Budget b : config.budgets().chain(start)) {
            ids.add(b.id());
        }
        return ids;
    }
}
