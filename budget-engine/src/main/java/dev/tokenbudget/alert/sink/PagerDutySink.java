package dev.tokenbudget.alert.sink;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.alert.Alert;
import dev.tokenbudget.alert.AlertJson;
import dev.tokenbudget.alert.AlertSink;
import dev.tokenbudget.alert.SinkResult;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

/**
 * Sends alerts to PagerDuty's Events API v2: a {@code trigger} per alert with the alert's
 * {@link Alert#dedupKey()} (one incident per budget window instance, updated as thresholds
 * pass), and a {@code resolve} with the same key when the window ends.
 */
public final class PagerDutySink implements AlertSink {

    /** PagerDuty's endpoint for Events API v2. */
    public static final URI EVENTS_V2 = URI.create("https://events.pagerduty.com/v2/enqueue");

    private static final int SUMMARY_MAX = 1024;

    private final String name;
    private final String routingKey;
    private final HttpDelivery http;

    /** @param routingKey the integration's routing key: a secret, read from the environment, never logged */
    public PagerDutySink(String name, URI endpoint, String routingKey, Duration timeout) {
        this.name = name;
        this.routingKey = routingKey;
        this.http = new HttpDelivery(name, endpoint, timeout);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public SinkResult export(Alert alert) {
        return http.post(event(alert, routingKey).toString(), Map.of());
    }

    /** The Events API v2 body for an alert. */
    public static ObjectNode event(Alert a, String routingKey) {
        ObjectNode e = AlertJson.mapper().createObjectNode();
        e.put("routing_key", routingKey);
        e.put("dedup_key", a.dedupKey());
        if (a.kind() == Alert.Kind.RESOLVED) {
            e.put("event_action", "resolve");
            return e;
        }
        e.put("event_action", "trigger");
        ObjectNode p = e.putObject("payload");
        String summary = a.summary();
        p.put("summary", summary.length() <= SUMMARY_MAX ? summary : summary.substring(0, SUMMARY_MAX));
        p.put("source", "tokenbudget");
        p.put("severity", switch (a.severity()) {
            case CRITICAL -> "critical";
            case WARNING -> "warning";
            case INFO -> "info";
        });
        p.put("timestamp", a.at().toString());
        p.put("component", a.budgetId());
        p.put("group", a.window());
        p.put("class", a.kind().label());
        p.set("custom_details", AlertJson.toJson(a));
        return e;
    }
}
