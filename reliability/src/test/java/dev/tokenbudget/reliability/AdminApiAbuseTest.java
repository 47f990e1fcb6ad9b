package dev.tokenbudget.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin API beside the gateway (as the quickstart serves it), attacked over a raw socket:
 * missing, wrong and mis-schemed tokens, path traversal encoded once and twice, bodies declared
 * or streamed past the bound, broken JSON, unknown methods. Every answer is a JSON error (or the
 * JDK server's own bare 400 for a request line that is no URI) without a stack trace or a file's
 * content, and nothing changes: the limits, the ledger and the events are as before.
 * {@code budget-console}'s AdminApiTest covers the single-encoded cases on the embedded server.
 */
class AdminApiAbuseTest extends AbuseGatewayTestBase {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LIMITS = "{\"window\":\"month\",\"limits\":{\"total\":5}}";

    private JsonNode before;

    @BeforeEach
    void snapshot() throws IOException {
        before = state();
    }

    @AfterEach
    void nothingChanged() throws IOException {
        assertThat(state()).as("limits, ledger and limit events after the abuse").isEqualTo(before);
    }

    /** What an attack could change: tenant-a's limits, the ledger, limit-change events. */
    private JsonNode state() throws IOException {
        var n = JSON.createObjectNode();
        n.set("limits", ok("GET", "/v1/budgets/tenant-a").path("windows").get(0).path("limits"));
        n.set("ledger", ok("GET", "/v1/ledger").path("entries"));
        n.set("events", ok("GET", "/v1/events?type=limits_changed").path("events"));
        return n;
    }

    private JsonNode ok(String method, String path) throws IOException {
        Http.Response r = send(method, path, List.of("Authorization: Bearer " + ADMIN_TOKEN), null);
        assertThat(r.status()).as(method + " " + path + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    void everyWrongOrMisplacedTokenGetsTheSame401AndChangesNothing() throws IOException {
        String t = ADMIN_TOKEN;
        String sameLength = t.substring(0, t.length() - 1) + (t.endsWith("f") ? "e" : "f");
        List<List<String>> wrong = List.of(List.of(),
                List.of("Authorization: Bearer " + t + "x"),
                List.of("Authorization: Bearer " + t.substring(1)),
                List.of("Authorization: Bearer " + sameLength),
                List.of("Authorization: Bearer " + t.toUpperCase()),
                List.of("Authorization: Bearer "),
                List.of("Authorization: Bearer"),
                List.of("Authorization: " + t),
                List.of("Authorization: Token " + t),
                List.of("Authorization: Bearer:" + t),
                List.of("Authorization: Basic " + Base64.getEncoder().encodeToString(t.getBytes(StandardCharsets.UTF_8))),
                List.of("Authorization: Basic " + Base64.getEncoder().encodeToString(("admin:" + t)
                        .getBytes(StandardCharsets.UTF_8))),
                List.of("Authorization: Bearer x" + "y".repeat(2000)),
                List.of("X-Api-Key: " + t),
                List.of("Cookie: token=" + t),
                List.of("Authorization: Bearer wrong-token-0123456789", "Authorization: Bearer " + t));
        List<String> bodies = new ArrayList<>();
        for (List<String> headers : wrong) {
            for (String[] req : List.of(new String[] {"GET", "/v1/budgets"}, new String[] {"PUT",
                    "/v1/budgets/tenant-a/limits"}, new String[] {"GET", "/v1/budgets?access_token=" + t})) {
                Http.Response r = send(req[0], req[1], headers, req[0].equals("PUT") ? LIMITS : null);
                assertError(headers + " " + req[0] + " " + req[1], r, 401, "unauthorized");
                assertThat(r.header("www-authenticate")).isEqualTo("Bearer realm=\"tokenbudget\"");
                bodies.add(r.body());
            }
        }
        assertThat(bodies).as("one answer whatever was wrong (the token is compared as a SHA-256 digest)")
                .containsOnly(bodies.get(0));
    }

    @Test
    void traversalEncodedOnceOrTwiceNeverLeavesTheApi() throws IOException {
        List<String> paths = List.of("/v1/budgets/..%2f..%2f..%2fetc%2fpasswd", "/v1/budgets/..%2F..%2Fetc%2Fpasswd",
                "/v1/budgets/..%252f..%252f..%252fetc%252fpasswd", "/v1/budgets/%252e%252e%252f%252e%252e",
                "/v1/budgets/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/v1/budgets/%2e%2e", "/v1/budgets/%252e%252e",
                "/v1/budgets/..%5c..%5cetc%5cpasswd", "/v1/budgets/%c0%ae%c0%ae%c0%afetc%c0%afpasswd",
                "/v1/budgets/..;/..;/etc/passwd", "/v1/budgets/tenant-a%00.json", "/v1/budgets/tenant-a%0d%0aX-Injected:%201",
                "/v1/budgets/../../../etc/passwd", "/v1/budgets/tenant-a/../../../../etc/passwd",
                "/v1/../../etc/passwd", "/../../etc/passwd", "//etc/passwd", "/v1/budgets/%2fetc%2fpasswd",
                "/v1/budgets/tenant-a/history/..%2f..%2f..%2fledger", "/dashboard.js/..%2f..%2fopenapi.json",
                "/%2e%2e/%2e%2e/etc/passwd", "/v1/budgets/" + "..%2f".repeat(200) + "etc%2fpasswd");
        for (String path : paths) {
            for (String method : List.of("GET", "PUT")) {
                Http.Response r = send(method, path, List.of("Authorization: Bearer " + ADMIN_TOKEN),
                        method.equals("PUT") ? LIMITS : null);
                assertThat(r.status()).as(method + " " + path + ": " + r.body()).isIn(400, 404, 405);
                assertThat(r.body()).as(path).doesNotContain("root:").doesNotContain("\tat ")
                        .doesNotContain("Exception").doesNotContain("dev.tokenbudget.");
                if (!r.body().isEmpty()) {
                    assertError(method + " " + path, r, r.status(), null);
                }
                assertThat(r.headers()).as(path).doesNotContainKey("x-injected");
            }
        }
    }

    @Test
    void bodiesPastTheBoundAreRefusedWithoutBeingRead() throws IOException {
        String auth = "Authorization: Bearer " + ADMIN_TOKEN;
        // declared a terabyte, with a token and without one
        assertError("declared 1 TB", sendHead("PUT", "/v1/budgets/tenant-a/limits",
                List.of(auth, "Content-Type: application/json", "Content-Length: 1099511627776")), 413, "body_too_large");
        assertError("declared 1 TB, no token", sendHead("PUT", "/v1/budgets/tenant-a/limits",
                List.of("Content-Type: application/json", "Content-Length: 1099511627776")), 401, "unauthorized");
        // the JDK server refuses this one itself, before the handler: a bare 400 without a trace
        Http.Response notANumber = sendHead("PUT", "/v1/budgets/tenant-a/limits", List.of(auth, "Content-Length: 12abc"));
        assertThat(notANumber.status()).isEqualTo(400);
        assertThat(notANumber.body()).doesNotContain("\tat ").doesNotContain("dev.tokenbudget.");
        // streamed in chunks without end: answered once past the bound
        Http.Response r;
        long sent = 0;
        try (RawHttp c = RawHttp.connect(admin.port())) {
            c.send(head("PUT", "/v1/budgets/tenant-a/limits", List.of(auth, "Content-Type: application/json",
                    "Transfer-Encoding: chunked")));
            c.send("20\r\n{\"reason\":\"" + "x".repeat(0x20 - 11) + "\r\n");
            byte[] chunk = ("1000\r\n" + "x".repeat(0x1000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            try {
                while (!c.answered() && sent < 64L * 1024 * 1024) {
                    c.send(chunk);
                    sent += 0x1000;
                }
            } catch (SocketException closedByTheServer) {
                // it answered and closed while we were still writing
            }
            r = c.read();
        }
        assertError("chunked without end", r, 413, "body_too_large");
        assertThat(sent).isGreaterThan(64 * 1024).isLessThan(64L * 1024 * 1024);
    }

    @Test
    void brokenJsonGetsA400NamingTheProblem() throws IOException {
        String auth = "Authorization: Bearer " + ADMIN_TOKEN;
        List<String> bad = List.of("{", "{\"window\":\"month\",\"limits\":{\"total\":5}} trailing",
                "{\"window\":\"month\",\"limits\":{\"total\":5}}{\"window\":\"month\"}",
                "{\"window\":\"month\",\"limits\":{\"total\":50},\"limits\":{\"total\":5}}",
                "[".repeat(60_000), "{\"a\":".repeat(12_000),
                "{\"window\":\"month\",\"limits\":{\"total\":1e400}}",
                "{\"window\":\"month\",\"limits\":{\"total\":9223372036854775808}}",
                "{\"window\":\"month\",\"limits\":{\"total\":NaN}}",
                "{\"window\":\"month\",\"limits\":{\"total\":5.5}}",
                "{\"window\":\"month\",\"limits\":{\"total\":-0}}",
                "{\"window\":\"month\",\"limits\":{\"total\":\"5\\u0000\"}}",
                "{\"window\":\"month\\r\\nX-Injected: 1\",\"limits\":{\"total\":5}}",
                "null", "\"str\"", "");
        for (String body : bad) {
            Http.Response r = send("PUT", "/v1/budgets/tenant-a/limits", List.of(auth, "Content-Type: application/json"),
                    body);
            assertError(body.length() > 60 ? body.substring(0, 60) + "..." : body, r, 400, "bad_request");
        }
        byte[] notUtf8 = {'{', '"', 'w', 'i', 'n', 'd', 'o', 'w', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        assertError("not UTF-8", send("PUT", "/v1/budgets/tenant-a/limits", List.of(auth), notUtf8), 400,
                "bad_request");
    }

    @Test
    void unknownMethodsGet405WithTheTokenAnd401Without() throws IOException {
        for (String method : List.of("FOO", "TRACE", "OPTIONS", "PROPFIND", "PATCH", "DELETE", "HEAD", "get")) {
            for (String path : List.of("/v1/budgets", "/v1/budgets/tenant-a", "/v1/budgets/tenant-a/limits")) {
                Http.Response with = send(method, path, List.of("Authorization: Bearer " + ADMIN_TOKEN), null);
                assertThat(with.status()).as(method + " " + path).isEqualTo(405);
                if (!method.equals("HEAD")) {
                    assertError(method + " " + path, with, 405, "method_not_allowed");
                    assertThat(with.body()).contains("allowed: ");
                }
                Http.Response without = send(method, path, List.of(), null);
                assertThat(without.status()).as(method + " " + path + " without a token").isEqualTo(401);
            }
        }
    }

    /** A JSON error: status, code (when given), no stack trace, no class names. */
    private static void assertError(String what, Http.Response r, int status, String code) throws IOException {
        assertThat(r.status()).as(what + ": " + r.body()).isEqualTo(status);
        assertThat(r.header("content-type")).as(what).isEqualTo("application/json; charset=utf-8");
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertThat(error.path("status").asInt()).as(what).isEqualTo(status);
        if (code != null) {
            assertThat(error.path("code").asText()).as(what).isEqualTo(code);
        }
        assertThat(r.body()).as(what).doesNotContain("\tat ").doesNotContain("Exception")
                .doesNotContain("dev.tokenbudget.").doesNotContain(ADMIN_TOKEN);
    }

    private static String head(String method, String path, List<String> headers) {
        StringBuilder b = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        headers.forEach(h -> b.append(h).append("\r\n"));
        return b.append("Connection: close\r\n\r\n").toString();
    }

    private Http.Response sendHead(String method, String path, List<String> headers) throws IOException {
        try (RawHttp c = RawHttp.connect(admin.port())) {
            c.send(head(method, path, headers));
            return c.read();
        }
    }

    private Http.Response send(String method, String path, List<String> headers, Object body) throws IOException {
        byte[] b = body == null ? null : body instanceof byte[] bytes ? bytes
                : ((String) body).getBytes(StandardCharsets.UTF_8);
        List<String> h = new ArrayList<>(headers);
        if (b != null) {
            h.add("Content-Length: " + b.length);
        }
        try (RawHttp c = RawHttp.connect(admin.port())) {
            ByteArrayOutputStream req = new ByteArrayOutputStream();
            req.write(head(method, path, h).getBytes(StandardCharsets.ISO_8859_1));
            if (b != null) {
                req.write(b);
            }
            c.send(req.toByteArray());
            return method.equals("HEAD") ? c.readHeadOnly() : c.read();
        }
    }
}
