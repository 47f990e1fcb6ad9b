package dev.tokenbudget.alert;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.forecast.AlertRule;
import dev.tokenbudget.forecast.Forecast;
import dev.tokenbudget.forecast.WindowForecasts;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.window.WindowRef;
import dev.tokenbudget.window.WindowSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decides which alerts to raise, synchronously (the {@link AlertService} runs it on its own
 * thread; the simulator calls it directly on simulated time):
 * <ul>
 *   <li>a threshold alert for each {@link BudgetEvent.ThresholdCrossed} the store reports;</li>
 *   <li>a predicted alert when a window's projection fires {@link AlertRule#DEFAULT} (the expected
 *       total above the limit) and the expected burn reaches the limit within the configured lead,
 *       once per budget, window and limit across instances, by a claim; the alert states the 80 %
 *       band and whether all of it lies above the limit;</li>
 *   <li>a resolution when a window that alerted has ended.</li>
 * </ul>
 * Claim keys carry the window instance and the limit, so alerts re-arm in a new window and when
 * a limit changes.
 */
public final class AlertEvaluator {

    private static final Logger LOG = LoggerFactory.getLogger(AlertEvaluator.class);

    private final BudgetEngine engine;
    private final WindowForecasts forecasts;
    private final AlertClaims claims;
    private final AlertConfig config;
    /** Windows this instance alerted on, by dedup key, to resolve when they end. */
    private final Map<String, Alert> open = new ConcurrentHashMap<>();

    public AlertEvaluator(BudgetEngine engine, WindowForecasts forecasts, AlertClaims claims, AlertConfig config) {
        this.engine = engine;
        this.forecasts = forecasts;
        this.claims = claims;
        this.config = config;
    }

    /** Alerts for one engine event (threshold crossings; other events raise none). */
    public List<Alert> onEvent(BudgetEvent e) {
        if (!(e instanceof BudgetEvent.ThresholdCrossed t) || !config.thresholds() || !config.covers(t.budgetId())) {
            return List.of();
        }
        Optional<Budget> budget = budget(t.budgetId());
        Optional<WindowSpec> spec = budget.flatMap(b -> spec(b, t.windowKey()));
        if (budget.isEmpty() || spec.isEmpty()) {
            LOG.warn("threshold crossed on unknown budget window {}/{}", t.budgetId(), t.windowKey());
            return List.of();
        }
        WindowRef w = spec.get().at(t.at());
        Dimension d = binding(t.limits(), t.used());
        long used = t.used().get(d);
        long limit = t.limits().get(d);
        String key = "threshold:" + t.budgetId() + "/" + t.windowKey() + "/" + signature(t.limits()) + "/" + t.percent();
        if (!claim(key, t.at(), claimExpiry(spec.get(), w, t.at()), true)) {
            return List.of();
        }
        Forecast f = WindowForecasts.forecastable(spec.get())
                ? forecasts.forecast(t.budgetId(), spec.get(), w, d, used, limit, t.at()) : null;
        Alert.Severity sev = t.percent() >= 100 ? Alert.Severity.CRITICAL
                : t.percent() >= 90 || f != null && f.exhausts() ? Alert.Severity.WARNING : Alert.Severity.INFO;
        Alert a = alert(key, Alert.Kind.THRESHOLD, sev, t.at(), budget.get(), t.windowKey(), w, d, used, limit,
                t.percent(), f);
        remember(a, spec.get());
        return List.of(a);
    }

    /** Predicted overruns and resolutions due at {@code now}. */
    public List<Alert> evaluate(Instant now) {
        List<Alert> out = new ArrayList<>(resolutions(now));
        if (!config.predictive().enabled()) {
            return out;
        }
        for (Budget b : budgets()) {
            if (!config.covers(b.id())) {
                continue;
            }
            try {
                predict(b, now).ifPresent(out::add);
            } catch (RuntimeException e) {
                // a store or claim failure: this budget is evaluated again next time
                LOG.warn("predictive alert evaluation of budget {} failed: {}", b.id(), e.toString());
            }
        }
        return out;
    }

    private Optional<Alert> predict(Budget b, Instant now) {
        Optional<BudgetStatus> status = engine.status(b.id());
        if (status.isEmpty()) {
            return Optional.empty();
        }
        for (BudgetStatus.WindowStatus ws : status.get().windows()) {
            Optional<WindowSpec> spec = spec(b, ws.window());
            if (spec.isEmpty()) {
                continue;
            }
            WindowRef w = spec.get().at(now);
            Optional<WindowForecasts.Binding> bind = forecasts.binding(b.id(), spec.get(), w, ws.limits(), ws.used(),
                    now);
            if (bind.isEmpty()) {
                continue;
            }
            Forecast f = bind.get().forecast();
            Dimension d = bind.get().dimension();
            long limit = ws.limits().get(d);
            long used = ws.used().get(d);
            Duration lead = config.predictive().lead();
            // the rule is the one with the best precision and recall in backtests (docs/forecast.md)
            if (!AlertRule.DEFAULT.fires(f, limit) || f.exhaustion() == null || used >= limit
                    || f.historyDays() < config.predictive().minHistoryDays()
                    || lead != null && f.exhaustion().isAfter(now.plus(lead))) {
                continue;
            }
            String key = "predicted:" + b.id() + "/" + ws.window() + "/" + signature(ws.limits());
            if (!claim(key, now, claimExpiry(spec.get(), w, now), false)) {
                continue;
            }
            Alert.Severity sev = Duration.between(now, f.exhaustion()).compareTo(Duration.ofDays(1)) <= 0
                    ? Alert.Severity.CRITICAL : Alert.Severity.WARNING;
            Alert a = alert(key, Alert.Kind.PREDICTED, sev, now, b, ws.window(), w, d, used, limit, 100, f);
            remember(a, spec.get());
            return Optional.of(a);
        }
        return Optional.empty();
    }

    private List<Alert> resolutions(Instant now) {
        List<Alert> out = new ArrayList<>();
        for (Alert a : open.values()) {
            if (now.isBefore(a.windowEnd())) {
                continue;
            }
            open.remove(a.dedupKey());
            String key = "resolved:" + a.dedupKey();
            if (claim(key, now, a.windowEnd().plus(Duration.ofDays(40)), false)) {
                out.add(new Alert(key, Alert.Kind.RESOLVED, Alert.Severity.INFO, now, a.budgetId(), a.window(),
                        a.windowStart(), a.windowEnd(), a.dimension(), a.used(), a.limit(), a.percent(), a.threshold(),
                        null, null, null, budget(a.budgetId()).map(b -> Recommendation.of(b, Alert.Kind.RESOLVED, 0,
                        null, a.windowEnd(), now)).orElse("None.")));
            }
        }
        return out;
    }

    private void remember(Alert a, WindowSpec spec) {
        if (spec.period().isCalendar()) {
            open.putIfAbsent(a.dedupKey(), a);
        }
    }

    private boolean claim(String key, Instant now, Instant expiresAt, boolean onFailure) {
        try {
            return claims.claim(key, now, expiresAt);
        } catch (RuntimeException e) {
            LOG.warn("alert claim {} failed: {}", key, e.toString());
            return onFailure;
        }
    }

    /** Calendar windows: until the window's end plus a day; rolling: one window length. */
    private static Instant claimExpiry(WindowSpec spec, WindowRef w, Instant now) {
        return spec.period().isCalendar() ? w.end().plus(Duration.ofDays(1)) : now.plus(spec.length());
    }

    private Alert alert(String id, Alert.Kind kind, Alert.Severity sev, Instant at, Budget b, String windowKey,
                        WindowRef w, Dimension d, long used, long limit, int threshold, Forecast f) {
        double percent = limit > 0 ? used * 100.0 / limit : 0;
        Alert.Projection p = f == null ? null : new Alert.Projection(Math.round(f.expected()), Math.round(f.lower80()),
                Math.round(f.upper80()), Math.round(f.lower95()), Math.round(f.upper95()));
        return new Alert(id, kind, sev, at, b.id(), windowKey, w.start(), w.end(), d, used, limit, percent, threshold,
                p, f == null ? null : f.exhaustion(), f == null ? null : f.trendPercent(),
                Recommendation.of(b, kind, percent, f, w.end(), at));
    }

    private static Dimension binding(Limits limits, TokenCounts used) {
        Dimension best = Dimension.TOTAL;
        double max = -1;
        for (Dimension d : Dimension.values()) {
            if (limits.has(d) && (double) used.get(d) / limits.get(d) > max) {
                max = (double) used.get(d) / limits.get(d);
                best = d;
            }
        }
        return best;
    }

    private static String signature(Limits l) {
        return "i" + l.input() + "o" + l.output() + "t" + l.total();
    }

    private List<Budget> budgets() {
        List<Budget> out = new ArrayList<>(engine.config().budgets().budgets());
        engine.config().keys().forEach(k -> k.own().ifPresent(out::add));
        return out;
    }

    /** A configured budget, a key's own budget, or the template of a per-user budget. */
    private Optional<Budget> budget(String id) {
        Optional<Budget> b = engine.config().budgets().get(id);
        if (b.isPresent()) {
            return b;
        }
        for (VirtualKey k : engine.config().keys()) {
            if (k.ownBudget() != null && k.ownBudget().id().equals(id)) {
                return Optional.of(k.ownBudget());
            }
            if (k.userTemplate() != null && id.startsWith("user:" + k.name() + ":")) {
                return Optional.of(k.userTemplate());
            }
        }
        return Optional.empty();
    }

    /** The window spec behind a window key (calendar keys are {@code name:label}; rolling keys the name). */
    private static Optional<WindowSpec> spec(Budget b, String windowKey) {
        for (WindowLimit wl : b.windows()) {
            WindowSpec s = wl.window();
            if (s.period().isCalendar() ? windowKey.startsWith(s.name() + ":") : windowKey.equals(s.name())) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
