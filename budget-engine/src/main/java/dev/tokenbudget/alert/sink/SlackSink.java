package dev.tokenbudget.alert.sink;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.alert.Alert;
import dev.tokenbudget.alert.AlertJson;
import dev.tokenbudget.alert.AlertSink;
import dev.tokenbudget.alert.SinkResult;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

/**
 * Posts alerts to a Slack incoming webhook as a Block Kit message: a header, the used tokens,
 * window, projection, exhaustion time and trend as fields, the recommended action, and the
 * summary as the notification text. Resolutions (a window ended) are not posted.
 */
public final class SlackSink implements AlertSink {

    private static final int HEADER_MAX = 150;

    private final String name;
    private final HttpDelivery http;

    /** @param webhookUrl the incoming webhook URL: a secret, read from the environment, never logged */
    public SlackSink(String name, URI webhookUrl, Duration timeout) {
        this.name = name;
        this.http = new HttpDelivery(name, webhookUrl, timeout);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public SinkResult export(Alert alert) {
        if (alert.kind() == Alert.Kind.RESOLVED) {
            return SinkResult.SUCCESS;
        }
        return http.post(message(alert).toString(), Map.of());
    }

    /** The Block Kit message for an alert. */
    public static ObjectNode message(Alert a) {
        ObjectNode m = AlertJson.mapper().createObjectNode();
        m.put("text", a.summary());
        ArrayNode blocks = m.putArray("blocks");
        String icon = switch (a.severity()) {
            case CRITICAL -> ":rotating_light: ";
            case WARNING -> ":warning: ";
            case INFO -> ":information_source: ";
        };
        String title = icon + (a.kind() == Alert.Kind.PREDICTED ? "Projected overrun: " : "") + a.budgetId() + " at "
                + Math.round(a.percent()) + "% of its " + a.dimension().label() + " limit";
        ObjectNode header = blocks.addObject().put("type", "header");
        header.putObject("text").put("type", "plain_text").put("text", clip(title, HEADER_MAX)).put("emoji", true);
        blocks.addObject().put("type", "section").putObject("text").put("type", "mrkdwn").put("text",
                "*" + a.summary() + "*");
        ArrayNode fields = blocks.addObject().put("type", "section").putArray("fields");
        field(fields, "Used", Format.used(a));
        field(fields, "Window", a.window() + ", resets " + Format.time(a.windowEnd()));
        field(fields, "Projected end of window", Format.projection(a));
        field(fields, "Limit reached", Format.exhaustion(a));
        field(fields, "Trend", Format.trend(a));
        field(fields, "Threshold", a.threshold() + "%");
        blocks.addObject().put("type", "section").putObject("text").put("type", "mrkdwn").put("text",
                "*Recommended action*\n" + a.action());
        blocks.addObject().put("type", "context").putArray("elements").addObject().put("type", "mrkdwn")
                .put("text", "tokenbudget " + a.kind().label() + " alert `" + a.id() + "`");
        return m;
    }

    private static void field(ArrayNode fields, String label, String value) {
        fields.addObject().put("type", "mrkdwn").put("text", "*" + label + "*\n" + value);
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
