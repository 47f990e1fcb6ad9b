package dev.tokenbudget.apisix;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The settle endpoint as APISIX's {@code http-logger} meets it ({@code apisix/plugins/http-logger.lua},
 * {@code send_http_data}: a POST with {@code Authorization: <auth_header>}; one entry with
 * {@code batch_max_size: 1}, a JSON array otherwise, or one entry a line with
 * {@code concat_method: new_line}).
 */
class SettleEndpointTest {

    private static final String SECRET = "a-settle-secret-of-some-length";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final List<LoggedResponse> settled = new CopyOnWriteArrayList<>();
    private SettleEndpoint endpoint;

    @BeforeEach
    void start() {
        endpoint = SettleEndpoint.start(0, SECRET, settled::add);
    }

    @AfterEach
    void stop() {
        endpoint.close();
    }

    private static String entry(String id, int status, String body) {
        return "{\"request\":{\"headers\":{\"x-tokenbudget-request-id\":" + (id == null ? "null" : Json.quote(id))
                + ",\"authorization\":\"Bearer sk-upstream\"}},\"response\":{\"status\":" + status
                + ",\"headers\":{\"content-type\":\"text/event-stream\",\"x-ratelimit-remaining-tokens\":[\"5\",\"6\"]},"
                + "\"body\":" + Json.quote(body) + "},\"route_id\":\"openai-budgeted\"}";
    }

    private int post(String path, String authorization, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void oneEntryIsReadWithItsIdStatusContentTypeAndBodyBytes() throws Exception {
        assertThat(post(SettleEndpoint.PATH, "Bearer " + SECRET, entry("abc", 200, "data: é\n\n"))).isEqualTo(204);

        assertThat(settled).hasSize(1);
        LoggedResponse r = settled.get(0);
        assertThat(r.requestId()).isEqualTo("abc");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).isEqualTo("text/event-stream");
        assertThat(r.body()).isEqualTo("data: é\n\n".getBytes(StandardCharsets.UTF_8));
        // a header nginx saw twice is a list: its first value
        assertThat(r.header("X-RateLimit-Remaining-Tokens")).isEqualTo("5");
    }

    @Test
    void anArrayAndNewLineSeparatedEntriesAreEachRead() throws Exception {
        assertThat(post(SettleEndpoint.PATH, "Bearer " + SECRET,
                "[" + entry("a", 200, "x") + "," + entry("b", 500, "y") + "]")).isEqualTo(204);
        assertThat(post(SettleEndpoint.PATH, "Bearer " + SECRET,
                entry("c", 200, "x") + "\n" + entry("d", 200, "y"))).isEqualTo(204);

        assertThat(settled).extracting(LoggedResponse::requestId).containsExactly("a", "b", "c", "d");
        assertThat(settled.get(1).status()).isEqualTo(500);
    }

    @Test
    void anEntryWithoutASingleIdSettlesNothing() throws Exception {
        String twice = entry("x", 200, "b").replace("\"x\"", "[\"x\",\"y\"]");
        assertThat(post(SettleEndpoint.PATH, "Bearer " + SECRET, entry(null, 200, "b"))).isEqualTo(204);
        assertThat(post(SettleEndpoint.PATH, "Bearer " + SECRET, twice)).isEqualTo(204);

        assertThat(settled).isEmpty();
    }

    @Test
    void callersWithoutTheSecretAreRefusedAndNothingIsRead() throws Exception {
        assertThat(post(SettleEndpoint.PATH, null, entry("a", 200, "x"))).isEqualTo(401);
        assertThat(post(SettleEndpoint.PATH, SECRET, entry("a", 200, "x"))).isEqualTo(401);
        assertThat(post(SettleEndpoint.PATH, "Bearer " + SECRET + "x", entry("a", 200, "x"))).isEqualTo(401);
        assertThat(post(SettleEndpoint.PATH, "Bearer " + SECRET.substring(1), entry("a", 200, "x"))).isEqualTo(401);

        assertThat(settled).isEmpty();
    }

    @Test
    void badJsonIs400AndOtherPathsAndMethodsAreRefused() throws Exception {
        assertThat(post(SettleEndpoint.PATH, "Bearer " + SECRET, "{\"request\":")).isEqualTo(400);
        assertThat(post("/other", "Bearer " + SECRET, entry("a", 200, "x"))).isEqualTo(404);
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + SettleEndpoint.PATH))
                .header("Authorization", "Bearer " + SECRET).GET().build();
        assertThat(HTTP.send(get, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(405);

        assertThat(settled).isEmpty();
    }

    @Test
    void aMissingOrShortSecretIsRefusedAtStart() {
        assertThatThrownBy(() -> SettleEndpoint.start(0, null, r -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("TOKENBUDGET_SETTLE_SECRET");
        assertThatThrownBy(() -> SettleEndpoint.start(0, "short", r -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16");
    }
}
