package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.event.EventLog;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.store.TokenCounts;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.Map;

/**
 * Events and ledger entries as JSON. Events are records: each component becomes a snake_case
 * field, so a new event type shows up in the API without a change here.
 */
final class EventViews {

    private final ObjectMapper json;
    private final BudgetViews budgets;

    EventViews(ObjectMapper json, BudgetViews budgets) {
        this.json = json;
        this.budgets = budgets;
    }

    ObjectNode event(EventLog.Entry e) {
        ObjectNode n = json.createObjectNode();
        n.put("seq", e.seq());
        BudgetEvent ev = e.event();
        n.put("type", BudgetViews.lower(ev.type()));
        for (RecordComponent c : ev.getClass().getRecordComponents()) {
            n.set(snake(c.getName()), value(read(c, ev)));
        }
        return n;
    }

    ObjectNode ledger(LedgerEntry e) {
        ObjectNode n = json.createObjectNode();
        n.put("seq", e.seq());
        n.put("at", e.at().toString());
        n.put("kind", BudgetViews.lower(e.change().kind()));
        n.put("budget_id", e.change().budgetId());
        n.put("window", e.change().window());
        n.set("before", value(e.change().before()));
        n.set("after", value(e.change().after()));
        n.put("actor", e.change().actor());
        n.put("reason", e.change().reason());
        n.put("idempotency_key", e.change().idempotencyKey());
        return n;
    }

    private static Object read(RecordComponent c, Object record) {
        try {
            return c.getAccessor().invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + c.getName() + " of " + record.getClass().getSimpleName(),
                    e);
        }
    }

    private JsonNode value(Object v) {
        if (v == null) {
            return NullNode.getInstance();
        }
        if (v instanceof Limits l) {
            return budgets.limits(l);
        }
        if (v instanceof TokenCounts c) {
            return budgets.counts(c);
        }
        if (v instanceof Enum<?> en) {
            return json.getNodeFactory().textNode(BudgetViews.lower(en));
        }
        if (v instanceof Collection<?> col) {
            ArrayNode a = json.createArrayNode();
            col.forEach(x -> a.add(value(x)));
            return a;
        }
        if (v instanceof Map<?, ?> m) {
            ObjectNode o = json.createObjectNode();
            m.forEach((k, x) -> o.set(String.valueOf(k), value(x)));
            return o;
        }
        if (v instanceof Number || v instanceof Boolean) {
            return json.valueToTree(v);
        }
        return json.getNodeFactory().textNode(v.toString());
    }

    static String snake(String camel) {
        StringBuilder b = new StringBuilder(camel.length() + 4);
        for (char c : camel.toCharArray()) {
            if (Character.isUpperCase(c)) {
                b.append('_').append(Character.toLowerCase(c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
