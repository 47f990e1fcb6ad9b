package dev.tokenbudget.store.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ledger entries as the scripts keep them: one JSON object each, every number a string (Lua's
 * cjson writes numbers with 14 digits) — {@code seq, at} (ms), {@code kind, budget, window,
 * before, after, actor, reason, key}.
 */
final class LedgerJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private LedgerJson() {
    }

    static List<LedgerEntry> entries(List<Object> json) {
        List<LedgerEntry> out = new ArrayList<>(json.size());
        for (Object o : json) {
            out.add(entry(o.toString()));
        }
        return out;
    }

    static LedgerEntry entry(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            LedgerChange c = new LedgerChange(LedgerChange.Kind.valueOf(n.path("kind").asText()),
                    n.path("budget").asText(), text(n, "window"), amounts(n.path("before")), amounts(n.path("after")),
                    n.path("actor").asText(), text(n, "reason"), text(n, "key"));
            return new LedgerEntry(Long.parseLong(n.path("seq").asText()),
                    Instant.ofEpochMilli(Long.parseLong(n.path("at").asText())), c);
        } catch (JsonProcessingException | RuntimeException e) {
            throw new IllegalStateException("unreadable ledger entry in Redis: " + json, e);
        }
    }

    /** The entry for ledger-append.lua, which numbers it. */
    static String encode(Instant at, LedgerChange c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("at", Long.toString(at.toEpochMilli()));
        n.put("kind", c.kind().name());
        n.put("budget", c.budgetId());
        put(n, "window", c.window());
        n.set("before", amounts(c.before()));
        n.set("after", amounts(c.after()));
        n.put("actor", c.actor());
        put(n, "reason", c.reason());
        put(n, "key", c.idempotencyKey());
        return n.toString();
    }

    private static void put(ObjectNode n, String field, String value) {
        if (value != null) {
            n.put(field, value);
        }
    }

    private static ObjectNode amounts(Map<String, Long> m) {
        ObjectNode n = JSON.createObjectNode();
        m.forEach((k, v) -> n.put(k, Long.toString(v)));
        return n;
    }

    private static Map<String, Long> amounts(JsonNode n) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), Long.parseLong(e.getValue().asText()));
        }
        return out;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() || v.asText().isEmpty() ? null : v.asText();
    }
}
