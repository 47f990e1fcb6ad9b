package dev.tokenbudget.alert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The JSON form of an alert: the generic webhook's body, PagerDuty's custom details, the simulator's output. */
public final class AlertJson {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private AlertJson() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    public static ObjectNode toJson(Alert a) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("id", a.id());
        o.put("kind", a.kind().label());
        o.put("severity", a.severity().label());
        o.put("at", a.at().toString());
        o.put("budget", a.budgetId());
        o.put("window", a.window());
        putInstant(o, "window_start", a.windowStart());
        putInstant(o, "window_end", a.windowEnd());
        o.put("dimension", a.dimension() == null ? null : a.dimension().label());
        o.put("used", a.used());
        o.put("limit", a.limit());
        o.put("percent", Math.round(a.percent() * 10) / 10.0);
        o.put("threshold", a.threshold());
        if (a.projection() == null) {
            o.putNull("projection");
        } else {
            ObjectNode p = o.putObject("projection");
            p.put("expected", a.projection().expected());
            p.put("lower80", a.projection().lower80());
            p.put("upper80", a.projection().upper80());
            p.put("lower95", a.projection().lower95());
            p.put("upper95", a.projection().upper95());
        }
        putInstant(o, "exhaustion", a.exhaustion());
        if (a.trendPercent() == null) {
            o.putNull("trend_percent");
        } else {
            o.put("trend_percent", Math.round(a.trendPercent() * 10) / 10.0);
        }
        o.put("action", a.action());
        o.put("summary", a.summary());
        o.put("dedup_key", a.dedupKey());
        return o;
    }

    private static void putInstant(ObjectNode o, String field, java.time.Instant t) {
        if (t == null) {
            o.putNull(field);
        } else {
            o.put(field, t.toString());
        }
    }
}
