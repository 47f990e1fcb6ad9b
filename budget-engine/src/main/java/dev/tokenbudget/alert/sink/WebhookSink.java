package dev.tokenbudget.alert.sink;

import dev.tokenbudget.alert.Alert;
import dev.tokenbudget.alert.AlertJson;
import dev.tokenbudget.alert.AlertSink;
import dev.tokenbudget.alert.SinkResult;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * POSTs each alert as JSON ({@link AlertJson}) to a URL, signed with HMAC-SHA256 over a
 * timestamp and the body ({@link WebhookSignature}); each attempt is signed afresh, so that a
 * retry is never refused as stale. Resolutions are sent too ({@code "kind": "resolved"}).
 */
public final class WebhookSink implements AlertSink {

    private final String name;
    private final byte[] secret;
    private final HttpDelivery http;
    private final LongSupplier epochSeconds;

    /** @param secret the shared signing secret: read from the environment, never logged */
    public WebhookSink(String name, URI url, byte[] secret, Duration timeout) {
        this(name, url, secret, timeout, () -> System.currentTimeMillis() / 1000);
    }

    /** With the clock that stamps requests (the receiver compares it with its own: wall time). */
    public WebhookSink(String name, URI url, byte[] secret, Duration timeout, LongSupplier epochSeconds) {
        if (secret.length < 16) {
            throw new IllegalArgumentException("the webhook secret must be at least 16 bytes long");
        }
        this.name = name;
        this.secret = secret.clone();
        this.http = new HttpDelivery(name, url, timeout);
        this.epochSeconds = epochSeconds;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public SinkResult export(Alert alert) {
        String body = AlertJson.toJson(alert).toString();
        long ts = epochSeconds.getAsLong();
        return http.post(body, Map.of(
                WebhookSignature.TIMESTAMP_HEADER, Long.toString(ts),
                WebhookSignature.SIGNATURE_HEADER, WebhookSignature.sign(secret, ts, body),
                WebhookSignature.DELIVERY_HEADER, alert.id()));
    }
}
