package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.config.ModelPrice;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.price.PriceTable;
import dev.tokenbudget.store.TokenCounts;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/** Budgets as the admin API shows them: status, windows, thresholds, forecast and dollars. */
final class BudgetViews {

    private final BudgetEngine engine;
    private final ForecastSource forecasts;
    private final ObjectMapper json;

    BudgetViews(BudgetEngine engine, ForecastSource forecasts, ObjectMapper json) {
        this.engine = engine;
        this.forecasts = forecasts;
        this.json = json;
    }

    /** Every budget, depth first from each root, with its depth in the tree. */
    ArrayNode tree(List<BudgetStatus> all) {
        Map<String, List<BudgetStatus>> kids = new LinkedHashMap<>();
        Map<String, BudgetStatus> byId = new LinkedHashMap<>();
        all.forEach(s -> byId.put(s.budgetId(), s));
        List<BudgetStatus> roots = new ArrayList<>();
        for (BudgetStatus s : all) {
            if (s.parent() == null || !byId.containsKey(s.parent())) {
                roots.add(s);
            } else {
                kids.computeIfAbsent(s.parent(), k -> new ArrayList<>()).add(s);
            }
        }
        ArrayNode out = json.createArrayNode();
        for (BudgetStatus r : roots) {
            walk(r, 0, kids, out);
        }
        return out;
    }

    private void walk(BudgetStatus s, int depth, Map<String, List<BudgetStatus>> kids, ArrayNode out) {
        out.add(budget(s, depth));
        for (BudgetStatus c : kids.getOrDefault(s.budgetId(), List.of())) {
            walk(c, depth + 1, kids, out);
        }
    }

    /** One budget; {@code depth} is its distance from its root (-1 when not computed). */
    ObjectNode budget(BudgetStatus s, int depth) {
        Optional<Budget> config = budgetConfig(s.budgetId());
        ObjectNode n = json.createObjectNode();
        n.put("id", s.budgetId());
        n.put("parent", s.parent());
        n.put("tree", s.treeId());
        if (depth >= 0) {
            n.put("depth", depth);
        }
        ArrayNode children = n.putArray("children");
        s.children().forEach(children::add);
        n.put("kind", s.budgetId().startsWith("key:") ? "key" : "budget");
        n.put("state", lower(worst(s)));
        n.put("utilisation", round(s.utilisation()));
        ArrayNode ts = n.putArray("thresholds");
        config.ifPresent(b -> b.thresholds().forEach(t -> ts.add(threshold(t))));
        ArrayNode ws = n.putArray("windows");
        for (BudgetStatus.WindowStatus w : s.windows()) {
            ws.add(window(s.budgetId(), w, config.flatMap(b -> windowConfig(b, w.window()))));
        }
        return n;
    }

    private ObjectNode threshold(Threshold t) {
        ObjectNode n = json.createObjectNode();
        n.put("percent", t.percent());
        n.put("policy", lower(t.policy()));
        return n;
    }

    private ObjectNode window(String budgetId, BudgetStatus.WindowStatus w, Optional<WindowLimit> config) {
        Instant now = engine.clock().now();
        ObjectNode n = json.createObjectNode();
        n.put("name", windowName(w.window()));
        n.put("key", w.window());
        config.ifPresent(c -> {
            n.put("period", lower(c.window().period()));
            n.put("zone", c.window().zone().getId());
            Duration len = c.window().length();
            if (len == null) {
                n.putNull("length_seconds");
            } else {
                n.put("length_seconds", len.toSeconds());
            }
        });
        n.put("start", w.start().toString());
        n.put("end", w.end().toString());
        n.put("resets_in_seconds", Math.max(0, Duration.between(now, w.end()).toSeconds()));
        n.set("limits", limits(w.limits()));
        n.set("used", counts(w.used()));
        n.set("reserved", counts(w.reserved()));
        ObjectNode remaining = n.putObject("remaining");
        for (Dimension d : Dimension.values()) {
            if (w.limits().has(d)) {
                remaining.put(d.label(), Math.max(0, w.limits().get(d) - w.used().get(d) - w.reserved().get(d)));
            } else {
                remaining.putNull(d.label());
            }
        }
        n.put("utilisation", round(w.utilisation()));
        n.put("state", lower(w.state()));
        Dimension binding = bindingDimension(w);
        n.put("binding_dimension", binding == null ? null : binding.label());
        n.set("forecast", forecast(budgetId, w));
        n.set("dollars", dollars(w.used()));
        return n;
    }

    /** The forecast of one window, or JSON null when the host has none. */
    JsonNode forecast(String budgetId, BudgetStatus.WindowStatus w) {
        Optional<WindowForecast> f = forecasts.forecast(budgetId, w);
        if (f.isEmpty()) {
            return NullNode.getInstance();
        }
        WindowForecast x = f.get();
        ObjectNode n = json.createObjectNode();
        n.put("at", x.at().toString());
        n.put("dimension", x.dimension());
        n.put("used", x.used());
        if (x.limit() < 0) {
            n.putNull("limit");
        } else {
            n.put("limit", x.limit());
        }
        n.put("expected", Math.round(x.expected()));
        n.putObject("band80").put("lower", Math.round(x.lower80())).put("upper", Math.round(x.upper80()));
        n.putObject("band95").put("lower", Math.round(x.lower95())).put("upper", Math.round(x.upper95()));
        n.put("expected_utilisation", x.limit() > 0 ? round(x.expected() / x.limit()) : null);
        n.put("horizon_end", x.horizonEnd().toString());
        n.put("exhaustion", x.exhaustion() == null ? null : x.exhaustion().toString());
        n.put("method", x.method());
        n.put("history_days", x.historyDays());
        n.put("trend_percent", x.trendPercent() == null ? null : round(x.trendPercent()));
        x.drivers().forEach(n.putArray("drivers")::add);
        return n;
    }

    /**
     * Used tokens in dollars. Usage is counted per budget, not per model, so the view is a range:
     * the used tokens priced at the cheapest and at the dearest of the models the config names
     * (its {@code prices}, degrade model maps and per-model output defaults), each priced by the
     * {@link PriceTable} (the config's prices over the dated defaults). Null when none has a price.
     */
    private JsonNode dollars(TokenCounts used) {
        EngineConfig c = engine.config();
        PriceTable table = PriceTable.of(c);
        String cheapest = null;
        String dearest = null;
        double low = Double.MAX_VALUE;
        double high = -1;
        for (String model : namedModels(c)) {
            Optional<ModelPrice> p = table.forModel(model);
            if (p.isEmpty()) {
                continue;
            }
            double cost = p.get().cost(used.input(), used.output(), 0);
            if (cost < low) {
                low = cost;
                cheapest = model;
            }
            if (cost > high) {
                high = cost;
                dearest = model;
            }
        }
        if (cheapest == null) {
            return NullNode.getInstance();
        }
        ObjectNode n = json.createObjectNode();
        n.put("currency", "USD");
        n.put("low", Math.round(low * 100) / 100.0);
        n.put("high", Math.round(high * 100) / 100.0);
        n.put("cheapest_model", cheapest);
        n.put("dearest_model", dearest);
        n.put("basis", "used tokens at list price without cache discounts; usage is counted per budget, not per "
                + "model, so this is the range between the cheapest and the dearest model the config names");
        return n;
    }

    /** Models the config names, sorted: what this deployment's traffic is likely to use. */
    static SortedSet<String> namedModels(EngineConfig c) {
        SortedSet<String> models = new TreeSet<>(c.prices().keySet());
        models.addAll(c.outputTokensByModel().keySet());
        for (Budget b : c.budgets().budgets()) {
            models.addAll(b.degrade().models().keySet());
            models.addAll(b.degrade().models().values());
        }
        return models;
    }

    /** The budget's definition: a tree budget or a key's own budget. */
    Optional<Budget> budgetConfig(String id) {
        return budgetConfig(engine.config(), id);
    }

    static Optional<Budget> budgetConfig(EngineConfig c, String id) {
        Optional<Budget> b = c.budgets().get(id);
        if (b.isPresent()) {
            return b;
        }
        return c.keys().stream().map(VirtualKey::own).flatMap(Optional::stream).filter(x -> x.id().equals(id))
                .findFirst();
    }

    static Optional<WindowLimit> windowConfig(Budget b, String windowKey) {
        String name = windowName(windowKey);
        return b.windows().stream().filter(w -> w.window().name().equals(name)).findFirst();
    }

    /** A calendar window's key is {@code name:instance} ({@code month:2026-11}); a rolling one's is its name. */
    static String windowName(String windowKey) {
        int i = windowKey.indexOf(':');
        return i < 0 ? windowKey : windowKey.substring(0, i);
    }

    /** The limited dimension with the highest utilisation, or null when nothing is limited. */
    static Dimension bindingDimension(BudgetStatus.WindowStatus w) {
        Dimension best = null;
        double bestUtil = -1;
        for (Dimension d : Dimension.values()) {
            if (w.limits().has(d)) {
                double u = (double) (w.used().get(d) + w.reserved().get(d)) / w.limits().get(d);
                if (u > bestUtil) {
                    bestUtil = u;
                    best = d;
                }
            }
        }
        return best;
    }

    static BudgetStatus.State worst(BudgetStatus s) {
        BudgetStatus.State worst = BudgetStatus.State.OK;
        for (BudgetStatus.WindowStatus w : s.windows()) {
            if (w.state().ordinal() > worst.ordinal()) {
                worst = w.state();
            }
        }
        return worst;
    }

    ObjectNode limits(Limits l) {
        ObjectNode n = json.createObjectNode();
        for (Dimension d : Dimension.values()) {
            if (l.has(d)) {
                n.put(d.label(), l.get(d));
            } else {
                n.putNull(d.label());
            }
        }
        return n;
    }

    ObjectNode counts(TokenCounts c) {
        return json.createObjectNode().put("input", c.input()).put("output", c.output()).put("total", c.total());
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    static double round(double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }
}
