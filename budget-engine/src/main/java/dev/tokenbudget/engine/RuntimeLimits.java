package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.event.EventBus;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.LimitOverride;
import dev.tokenbudget.store.LimitOverrides;
import dev.tokenbudget.time.BudgetClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Limits changed at run time for {@link BudgetEngine#updateLimits} and {@link BudgetEngine#syncLimits}:
 * saved in the store first, so that every engine sharing it applies them, and applied by installing
 * a new {@link PathPlan}. Changes are made against the config as built, which wins over changes made
 * against other configured limits. Thread-safe (one change at a time).
 */
final class RuntimeLimits {

    /** The engine's logger: operators' log settings for the engine cover limit changes, as before. */
    private static final Logger LOG = LoggerFactory.getLogger(BudgetEngine.class);

    /** The config as built: the limits run-time changes are made against. */
    private final EngineConfig configured;
    private final BudgetStore store;
    private final Supplier<PathPlan> plan;
    private final Consumer<PathPlan> install;
    private final BudgetClock clock;
    private final EventBus events;
    /** Newest store version of limit changes applied; guarded by this. */
    private long version;

    RuntimeLimits(EngineConfig configured, BudgetStore store, Supplier<PathPlan> plan, Consumer<PathPlan> install,
                  BudgetClock clock, EventBus events) {
        this.configured = configured;
        this.store = store;
        this.plan = plan;
        this.install = install;
        this.clock = clock;
        this.events = events;
    }

    synchronized void update(String budgetId, String windowName, Limits limits) {
        EngineConfig now = plan.get().config;
        window(now, budgetId, windowName).orElseThrow(() -> now.budgets().contains(budgetId)
                ? new IllegalArgumentException("budget '" + budgetId + "' has no window '" + windowName + "'")
                : new IllegalArgumentException("unknown budget '" + budgetId + "'"));
        Limits base = window(configured, budgetId, windowName).map(WindowLimit::limits).orElseThrow();
        store.saveLimits(new LimitOverride(budgetId, windowName, base, limits, 0));
        apply(budgetId, windowName, limits);
    }

    synchronized int sync() {
        LimitOverrides o = store.limitOverrides(version);
        if (o.version() < version) {
            // the store lost its changes (a flushed Redis): start counting again from its version
            version = 0;
            o = store.limitOverrides(0);
        }
        int changed = 0;
        for (LimitOverride x : o.overrides()) {
            Optional<WindowLimit> base = window(configured, x.budgetId(), x.window());
            if (base.isEmpty() || !base.get().limits().equals(x.base())) {
                LOG.info("limit change {} of budget '{}' window '{}' ignored: it was made against limits {}, this "
                        + "engine's config has {}", x.version(), x.budgetId(), x.window(), x.base(),
                        base.map(WindowLimit::limits).map(Object::toString).orElse("no such window"));
                continue;
            }
            if (!window(plan.get().config, x.budgetId(), x.window()).orElseThrow().limits().equals(x.limits())) {
                apply(x.budgetId(), x.window(), x.limits());
                changed++;
            }
        }
        version = o.version();
        return changed;
    }

    private static Optional<WindowLimit> window(EngineConfig c, String budgetId, String windowName) {
        return c.budgets().get(budgetId).flatMap(b -> b.windows().stream()
                .filter(w -> w.window().name().equals(windowName)).findFirst());
    }

    private void apply(String budgetId, String windowName, Limits limits) {
        PathPlan p = plan.get();
        Budget b = p.config.budgets().get(budgetId).orElseThrow();
        List<WindowLimit> ws = new ArrayList<>(b.windows());
        int idx = -1;
        for (int i = 0; i < ws.size(); i++) {
            if (ws.get(i).window().name().equals(windowName)) {
                idx = i;
            }
        }
        Limits before = ws.get(idx).limits();
        ws.set(idx, ws.get(idx).withLimits(limits));
        Budget nb = b.toBuilder().windows(ws).build();
        install.accept(new PathPlan(p.config.withBudgets(p.config.budgets().with(nb))));
        Instant now = clock.now();
        events.publish(() -> new BudgetEvent.LimitsChanged(now, budgetId, windowName, before, limits));
    }
}
