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

    /**
     * A string as APISIX's JSON encoder writes it (lua-cjson's {@code char2escape} table, with
     * {@code encode_escape_forward_slash(false)} as {@code apisix/core/json.lua} sets it): control
     * characters, {@code "}, {@code \\} and DEL escaped, every other byte copied raw, UTF-8 or not.
     */
    private static byte[] cjsonString(byte[] raw) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write('"');
        for (byte b : raw) {
            int c = b & 0xff;
            String esc = switch (c) {
                case '"' -> "\\\"";
                case '\\' -> "\\\\";
                case '\b' -> "\\b";
                case '\t' -> "\\t";
                case '\n' -> "\\n";
                case '\f' -> "\\f";
                case '\r' -> "\\r";
                default -> c < 0x20 || c == 0x7f ? String.format("\\u%04x", c) : null;
            };
            if (esc == null) {
                out.write(c);
            } else {
                out.writeBytes(esc.getBytes(StandardCharsets.US_ASCII));
            }
        }
        out.write('"');
        return out.toByteArray();
    }

    @Test
    void aBinaryBedrockEventStreamBodyArrivesByteExact() throws Exception {
        byte[] frames = dev.tokenbudget.provider.Payloads.bytes("bedrock/converse-stream.frames");
        java.io.ByteArrayOutputStream entry = new java.io.ByteArrayOutputStream();
        entry.writeBytes(("{\"request\":{\"headers\":{\"x-tokenbudget-request-id\":\"bin\"}},\"response\":{\"status\":200,"
                + "\"headers\":{\"content-type\":\"application/vnd.amazon.eventstream\"},\"body\":")
                .getBytes(StandardCharsets.US_ASCII));
        entry.writeBytes(cjsonString(frames));
        entry.writeBytes("}}".getBytes(StandardCharsets.US_ASCII));
        int status = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port()
                        + SettleEndpoint.PATH)).header("Authorization", "Bearer " + SECRET)
                .POST(HttpRequest.BodyPublishers.ofByteArray(entry.toByteArray())).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
        assertThat(status).isEqualTo(204);
        assertThat(settled).hasSize(1);
        assertThat(settled.get(0).body()).isEqualTo(frames);
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
