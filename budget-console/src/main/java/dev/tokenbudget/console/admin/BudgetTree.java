package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.engine.BudgetEngine;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The budget tree exactly as {@code GET /v1/budgets} shows it (use, state, windows, thresholds and
 * forecasts), as plain maps and lists, for hosts that serve it through their own framework — the
 * Spring Boot Actuator endpoint — whatever JSON library that framework uses.
 */
public final class BudgetTree {

    private static final TypeReference<List<Map<String, Object>>> LIST = new TypeReference<>() {
    };
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    private final BudgetEngine engine;
    private final BudgetViews views;
    private final ObjectMapper json = Json.mapper();

    /** Forecasts from the engine's forecaster over the usage history the engine records. */
    public BudgetTree(BudgetEngine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.views = new BudgetViews(engine, new HistoryForecasts(engine, engine.history()), json);
    }

    /** Every budget, depth first from each root, as the admin API lists them. */
    public List<Map<String, Object>> budgets() {
        return json.convertValue(views.tree(engine.status()), LIST);
    }

    /** One budget as the admin API shows it, or empty when there is no such budget. */
    public Optional<Map<String, Object>> budget(String id) {
        return engine.status(id).map(s -> json.convertValue(views.budget(s, -1), MAP));
    }
}
