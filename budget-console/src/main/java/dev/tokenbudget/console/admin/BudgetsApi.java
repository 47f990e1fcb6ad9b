package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.budget.WindowLimit;
import dev.tokenbudget.config.Quantities;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.ledger.Ledger;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;

import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code /v1/budgets...}: the tree, one budget, its forecast, its burn-down history, its limits. */
final class BudgetsApi {

    private static final Set<String> LIMITS_FIELDS = Set.of("window", "limits", "reason");

    private final BudgetEngine engine;
    private final BudgetViews views;
    private final BurnHistory history;
    private final Duration sampleInterval;
    private final Ledger ledger;
    private final ObjectMapper json;

    BudgetsApi(BudgetEngine engine, BudgetViews views, BurnHistory history, Duration sampleInterval, Ledger ledger,
               ObjectMapper json) {
        this.engine = engine;
        this.views = views;
        this.history = history;
        this.sampleInterval = sampleInterval;
        this.ledger = ledger;
        this.json = json;
    }

    void register(Routes routes) {
        routes.add("GET", "/v1/budgets", this::list)
                .add("GET", "/v1/budgets/{id}", this::get)
                .add("GET", "/v1/budgets/{id}/forecast", this::forecast)
                .add("GET", "/v1/budgets/{id}/history", this::history)
                .add("PUT", "/v1/budgets/{id}/limits", this::putLimits);
    }

    private Routes.Reply list(ApiRequest r) {
        ObjectNode n = json.createObjectNode();
        n.put("at", engine.clock().now().toString());
        n.set("budgets", views.tree(engine.status()));
        return Routes.Reply.ok(n);
    }

    private Routes.Reply get(ApiRequest r) {
        BudgetStatus s = status(r.id("id"));
        ObjectNode n = json.createObjectNode();
        n.put("at", engine.clock().now().toString());
        n.setAll(views.budget(s, -1));
        return Routes.Reply.ok(n);
    }

    private Routes.Reply forecast(ApiRequest r) {
        BudgetStatus s = status(r.id("id"));
        ObjectNode n = json.createObjectNode();
        n.put("budget_id", s.budgetId());
        n.put("at", engine.clock().now().toString());
        ArrayNode ws = n.putArray("windows");
        for (BudgetStatus.WindowStatus w : s.windows()) {
            ObjectNode x = ws.addObject();
            x.put("name", BudgetViews.windowName(w.window()));
            x.put("key", w.window());
            x.set("forecast", views.forecast(s.budgetId(), w));
        }
        return Routes.Reply.ok(n);
    }

    private Routes.Reply history(ApiRequest r) {
        BudgetStatus s = status(r.id("id"));
        Instant now = engine.clock().now();
        ObjectNode n = json.createObjectNode();
        n.put("budget_id", s.budgetId());
        n.put("at", now.toString());
        n.put("source", "sampled");
        n.put("sample_interval_seconds", sampleInterval.toSeconds());
        ArrayNode ws = n.putArray("windows");
        for (BudgetStatus.WindowStatus w : s.windows()) {
            ObjectNode x = ws.addObject();
            x.put("name", BudgetViews.windowName(w.window()));
            x.put("key", w.window());
            x.put("start", w.start().toString());
            x.put("end", w.end().toString());
            ArrayNode ps = x.putArray("points");
            List<BurnHistory.Point> points = history.points(s.budgetId(), w.window());
            points.forEach(p -> ps.add(point(p)));
            // the chart always ends at the counters of this very moment
            if (points.isEmpty() || points.get(points.size() - 1).at().isBefore(now)) {
                ps.add(point(BurnHistory.Point.of(now, w.used())));
            }
        }
        return Routes.Reply.ok(n);
    }

    private ObjectNode point(BurnHistory.Point p) {
        return json.createObjectNode().put("at", p.at().toString()).put("input", p.input()).put("output", p.output())
                .put("total", p.total());
    }

    /** Replaces one window's limits: dimensions left out become unlimited. Recorded in the ledger. */
    private Routes.Reply putLimits(ApiRequest r) {
        String id = r.id("id");
        JsonNode body = r.jsonObject(json);
        unknownFields(body, LIMITS_FIELDS, "");
        Budget b = engine.config().budgets().get(id).orElse(null);
        if (b == null) {
            if (views.budgetConfig(id).isPresent()) {
                throw new ApiException(409, "not_changeable", "budget '" + id + "' is a key's own budget; its limits "
                        + "are set in the config (keys[].windows)");
            }
            throw unknownBudget(id);
        }
        WindowLimit window = window(b, body.get("window"));
        Limits after = limits(body.get("limits"));
        String reason = reason(body.get("reason"));
        String name = window.window().name();
        Limits before;
        LedgerEntry entry;
        // one change at a time, so that the ledger's "before" is what this change replaced
        synchronized (this) {
            before = engine.config().budgets().get(id).flatMap(x -> BudgetViews.windowConfig(x, name))
                    .orElseThrow().limits();
            engine.updateLimits(id, name, after);
            entry = ledger.append(engine.clock().now(), new LedgerChange(LedgerChange.Kind.LIMITS_CHANGED, id, name,
                    amounts(before), amounts(after), "admin-api " + r.caller(), reason, null));
        }
        ObjectNode n = json.createObjectNode();
        n.put("budget_id", id);
        n.put("window", name);
        n.set("before", views.limits(before));
        n.set("after", views.limits(after));
        n.put("ledger_seq", entry.seq());
        n.set("budget", views.budget(status(id), -1));
        return Routes.Reply.ok(n);
    }

    private static WindowLimit window(Budget b, JsonNode w) {
        List<String> names = b.windows().stream().map(x -> x.window().name()).toList();
        if (w == null || w.isNull()) {
            if (b.windows().size() == 1) {
                return b.windows().get(0);
            }
            throw ApiException.badRequest("window: required, budget '" + b.id() + "' has windows " + names);
        }
        if (!w.isTextual()) {
            throw ApiException.badRequest("window: must be a window name such as " + names.get(0));
        }
        return b.windows().stream().filter(x -> x.window().name().equals(w.asText())).findFirst()
                .orElseThrow(() -> ApiException.badRequest("window: budget '" + b.id() + "' has no window '"
                        + Json.clip(w.asText()) + "'; it has " + names));
    }

    private static Limits limits(JsonNode l) {
        if (l == null || !l.isObject()) {
            throw ApiException.badRequest("limits: required, an object such as {\"total\": 500000000} or "
                    + "{\"input\": \"250M\", \"output\": \"50M\"}");
        }
        unknownFields(l, Set.of("input", "output", "total"), "limits.");
        long[] v = new long[3];
        boolean any = false;
        for (Dimension d : Dimension.values()) {
            v[d.ordinal()] = quantity(l.get(d.label()), "limits." + d.label());
            any |= v[d.ordinal()] != Limits.NONE;
        }
        if (!any) {
            throw ApiException.badRequest("limits: at least one of input, output, total must be set");
        }
        return new Limits(v[0], v[1], v[2]);
    }

    private static long quantity(JsonNode n, String path) {
        if (n == null || n.isNull()) {
            return Limits.NONE;
        }
        long v;
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            v = n.asLong();
        } else if (n.isTextual()) {
            try {
                v = Quantities.tokens(n.asText());
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest(path + ": " + e.getMessage());
            }
        } else {
            throw ApiException.badRequest(path + ": must be a whole number of tokens such as 20000000 or \"20M\", was "
                    + Json.clip(n.toString()));
        }
        if (v <= 0 || v > Quantities.MAX_TOKENS) {
            throw ApiException.badRequest(path + ": must be > 0 and at most " + Quantities.MAX_TOKENS + ", was " + v);
        }
        return v;
    }

    private static String reason(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual() || n.asText().length() > 500) {
            throw ApiException.badRequest("reason: must be text of at most 500 characters");
        }
        return n.asText();
    }

    static void unknownFields(JsonNode body, Set<String> allowed, String prefix) {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw ApiException.badRequest(prefix + Json.clip(f) + ": unknown field; expected one of "
                        + allowed.stream().sorted().toList());
            }
        }
    }

    static Map<String, Long> amounts(Limits l) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Dimension d : Dimension.values()) {
            if (l.has(d)) {
                m.put(d.label(), l.get(d));
            }
        }
        return m;
    }

    BudgetStatus status(String id) {
        return engine.status(id).orElseThrow(() -> unknownBudget(id));
    }

    static ApiException unknownBudget(String id) {
        return ApiException.notFound("unknown_budget", "no budget '" + Json.clip(id) + "'; GET /v1/budgets lists them");
    }
}
