package dev.tokenbudget.alert.sink;

import dev.tokenbudget.alert.SinkResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * POSTs a JSON body and classifies the answer: 2xx delivered; 408, 429 and 5xx, timeouts and
 * connection errors worth a retry; other answers final. Logs the sink's name and the status,
 * never the URL (a Slack webhook URL is itself a secret).
 */
final class HttpDelivery {

    private static final Logger LOG = LoggerFactory.getLogger(HttpDelivery.class);

    private final String sinkName;
    private final URI uri;
    private final Duration timeout;
    private final HttpClient client;

    HttpDelivery(String sinkName, URI uri, Duration timeout) {
        this.sinkName = sinkName;
        this.uri = uri;
        this.timeout = timeout;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    SinkResult post(String body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout)
                .header("Content-Type", "application/json; charset=utf-8")
                .header("User-Agent", "tokenbudget-alerts")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        headers.forEach(b::header);
        try {
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return classify(r.statusCode());
        } catch (IOException e) {
            LOG.warn("alert sink {}: delivery failed: {}", sinkName, e.getClass().getSimpleName());
            return SinkResult.RETRY;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return SinkResult.RETRY;
        }
    }

    private SinkResult classify(int status) {
        if (status >= 200 && status < 300) {
            return SinkResult.SUCCESS;
        }
        if (status == 408 || status == 429 || status >= 500) {
            LOG.warn("alert sink {}: HTTP {}, will retry", sinkName, status);
            return SinkResult.RETRY;
        }
        LOG.warn("alert sink {}: HTTP {}, not retried (check the sink's configuration)", sinkName, status);
        return SinkResult.FAILED;
    }
}
