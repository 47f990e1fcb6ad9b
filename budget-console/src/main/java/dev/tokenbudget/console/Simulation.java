package dev.tokenbudget.console;

import dev.tokenbudget.alert.Alert;
import dev.tokenbudget.alert.AlertEvaluator;
import dev.tokenbudget.alert.InMemoryAlertClaims;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.RouteDirective;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.forecast.Forecaster;
import dev.tokenbudget.forecast.InMemoryUsageHistory;
import dev.tokenbudget.forecast.WindowForecasts;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.price.PriceTable;
import dev.tokenbudget.store.BindingCause;
import dev.tokenbudget.store.TokenCounts;
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
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
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

    /**
     * Per budget: tokens served (admitted, degraded included), degraded, rejected (refusals waiting
     * would have cured: 429) and never fitting (requests larger than a whole window: 400), and what
     * routing did: degraded requests, requests whose output ceiling was clamped (and of those, the
     * ones admitted with a smaller ceiling instead of refused), the output tokens the clamps cut off,
     * draws on an overflow pool, and dollars at list price with what demotion saved.
     */
    static final class Totals {
        long served;
        long degraded;
        long rejected;
        long neverFit;
        long requests;
        long rejectedRequests;
        long neverFitRequests;
        long degradedRequests;
        long clampedRequests;
        long fittedRequests;
        long outputCut;
        long poolRequests;
        long pooled;
        double dollars;
        double saved;
    }

    /** What a simulation produced. */
    record Result(int requests, Instant first, Instant last, List<Entry> timeline, Map<String, Totals> budgets,
                  List<Alert> alerts, InMemoryUsageHistory history, int unknownKeys) {
    }

    private final EngineConfig config;
    private final Duration evaluateEvery;
    private final PriceTable prices;

    Simulation(EngineConfig config, Duration evaluateEvery) {
        this.config = config;
        this.evaluateEvery = evaluateEvery;
        this.prices = PriceTable.of(config);
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
        Map<String, Map<String, Long>> draws = new HashMap<>();
        int unknown = 0;
        try (BudgetEngine engine = BudgetEngine.builder(config).store(new InMemoryBudgetStore()).clock(clock).build()) {
            AlertEvaluator evaluator = new AlertEvaluator(engine, new WindowForecasts(new Forecaster(), history),
                    new InMemoryAlertClaims(), config.alerts());
            engine.subscribe(e -> {
                if (e instanceof BudgetEvent.AllocationChanged a
                        && a.entry().change().kind() == LedgerChange.Kind.REBALANCE) {
                    timeline.add(new Entry(a.at(), "rebalance", a.entry().change().budgetId(),
                            a.entry().change().window(), rebalance(a.entry().change()), null, null));
                }
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
                    Served sv = served(row, t);
                    engine.settle(t, TokenUsage.of(row.input(), sv.output()));
                    history.record(t.budgetIds(), clock.now(), row.input(), sv.output());
                    String drew = d.allocation().usedPool() ? drawer(t.budgetIds(), d.allocation().poolBudget()) : null;
                    for (String id : t.budgetIds()) {
                        Totals s = totals.computeIfAbsent(id, x -> new Totals());
                        s.served += row.input() + sv.output();
                        s.requests++;
                        s.dollars += sv.dollars();
                        s.saved += sv.saved();
                        s.outputCut += row.output() - sv.output();
                        if (d.outcome() == Decision.Outcome.DEGRADE) {
                            s.degraded += row.input() + sv.output();
                            s.degradedRequests++;
                        }
                        if (sv.clamped()) {
                            s.clampedRequests++;
                        }
                        if (t.fitted()) {
                            s.fittedRequests++;
                        }
                        if (id.equals(drew)) {
                            s.poolRequests++;
                        }
                    }
                    if (d.outcome() == Decision.Outcome.DEGRADE) {
                        mark(timeline, firsts, "degrade", d, clock.now(), "route " + d.directive().route()
                                + (d.directive().model() == null ? "" : ", " + row.model() + " -> "
                                + d.directive().model()));
                    }
                    if (t.fitted()) {
                        mark(timeline, firsts, "clamp", d, clock.now(), "reserved output ceiling "
                                + t.requestedOutput() + " -> " + t.reservedOutput() + " instead of a refusal");
                    }
                    if (drew != null) {
                        netDraws(engine, d.allocation().poolBudget(), drew, draws);
                        mark(timeline, firsts, "pool", d, clock.now(), drew + " drew " + largest(d.allocation()
                                .pooled()) + " tokens from the overflow pool of '" + d.allocation().poolBudget() + "'");
                    }
                } else {
                    // a request no window could ever admit is a config or client problem, not a budget running out
                    boolean never = d.reason() == Decision.Reason.REQUEST_EXCEEDS_LIMIT;
                    for (String id : path(key, row)) {
                        Totals s = totals.computeIfAbsent(id, x -> new Totals());
                        if (never) {
                            s.neverFit += tokens;
                            s.neverFitRequests++;
                        } else {
                            s.rejected += tokens;
                            s.rejectedRequests++;
                        }
                    }
                    BindingCause cause = d.allocation().cause();
                    String reason = d.reason().name().toLowerCase(Locale.ROOT) + " (HTTP " + d.httpStatus() + ")";
                    if (never) {
                        mark(timeline, firsts, "never-fits", d, clock.now(), reason + ": larger than the whole "
                                + "window admits (" + d.dimension().label() + " limit " + d.limit() + ")");
                    } else {
                        mark(timeline, firsts, "reject", d, clock.now(), reason + (cause == null
                                || cause == BindingCause.CAP ? "" : ", bound by the "
                                + cause.name().toLowerCase(Locale.ROOT).replace('_', ' ')));
                    }
                }
            }
            draws.forEach((child, byWindow) -> totals.get(child).pooled = byWindow.values().stream()
                    .mapToLong(Long::longValue).sum());
            Instant last = rows.get(rows.size() - 1).at();
            timeline.sort((a, b) -> a.at().compareTo(b.at()));
            return new Result(rows.size() - unknown, first, last, timeline, totals, alerts, history, unknown);
        }
    }

    /** What an admitted request used and cost: its output cut to a clamped ceiling, on the model served. */
    record Served(long output, boolean clamped, double dollars, double saved) {
    }

    /**
     * The provider stops at the ceiling the gateway set: a degraded request's output is the trace's,
     * cut to the directive's clamp. Dollars are at list price of the model served; a demotion saves
     * what the same tokens would have cost on the model asked for (unpriced models count nothing).
     */
    private Served served(TraceCsv.Row row, Ticket t) {
        Decision d = t.decision();
        RouteDirective dir = d.outcome() == Decision.Outcome.DEGRADE ? d.directive() : null;
        long ceiling = dir != null && dir.maxOutputTokens() >= 0 ? dir.maxOutputTokens() : Long.MAX_VALUE;
        long output = Math.min(row.output(), ceiling);
        String model = dir != null && dir.model() != null ? dir.model() : row.model();
        TokenUsage usage = TokenUsage.of(row.input(), output);
        double dollars = prices.cost(model, usage).orElse(0.0);
        double saved = 0;
        if (!Objects.equals(model, row.model())) {
            saved = prices.cost(row.model(), usage).map(asked -> asked - dollars).orElse(0.0);
        }
        return new Served(output, ceiling < row.maxTokens(), dollars, saved);
    }

    /** The budget of the path that drew on {@code pool}'s overflow pool: its child on the path. */
    private String drawer(List<String> path, String pool) {
        for (String id : path) {
            if (config.budgets().get(id).flatMap(Budget::parent).filter(pool::equals).isPresent()) {
                return id;
            }
        }
        return pool;
    }

    /**
     * What {@code child} draws from {@code pool}'s overflow pool now, per window instance. A draw
     * falls back when a reservation settles below its ceiling, so the reservations' own draws
     * would overstate it: after each drawing request the pool's balance is read instead.
     */
    private static void netDraws(BudgetEngine engine, String pool, String child,
                                 Map<String, Map<String, Long>> draws) {
        engine.allocation(pool).ifPresent(a -> a.pools().forEach(p -> p.children().stream()
                .filter(c -> c.budgetId().equals(child))
                .forEach(c -> draws.computeIfAbsent(child, x -> new HashMap<>()).put(p.window(), largest(c.draw())))));
    }

    /** A rebalance move in words: what the child gave, to which pool. */
    private String rebalance(LedgerChange c) {
        long before = c.before().values().stream().mapToLong(Long::longValue).max().orElse(0);
        long after = c.after().values().stream().mapToLong(Long::longValue).max().orElse(0);
        String pool = config.budgets().get(c.budgetId()).flatMap(Budget::parent).orElse("?");
        return "gave " + (before - after) + " tokens of its allocation (" + before + " -> " + after
                + ") to the overflow pool of '" + pool + "'";
    }

    private static long largest(TokenCounts t) {
        return Math.max(t.total(), Math.max(t.input(), t.output()));
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
