package dev.tokenbudget.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Header injection through the request values that end up in response headers: the user header
 * (a per-user budget {@code user:<key>:<user>} is named in {@code x-tokenbudget-budget},
 * {@code RateLimit-Policy} and {@code RateLimit}) and the feature header, sent through the real
 * Spring Cloud Gateway filter over a raw socket with bytes no client library sends: CR, LF, NUL,
 * obsolete line folding, bytes above 0x7F, structured-field quotes, very long values. Each
 * response head is checked byte for byte ({@link #assertCleanHead}); the connection stays usable
 * for the next request unless the server closed it after a 400 of its own.
 *
 * <p>Who refuses what: Netty refuses a bare CR or LF and control characters in a header value
 * (400, no body, connection closed); the engine refuses any user id outside
 * {@code [A-Za-z0-9._@:+-]{1,128}} (400, {@code invalid_request}) and any feature the key does not
 * own (403), and its messages never echo the raw value.
 */
class HeaderInjectionTest extends AbuseGatewayTestBase {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern HEADER_LINE = Pattern.compile("([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \\t]*(.*?)[ \\t]*");
    /** An RFC 8941 string: printable ASCII, with {@code "} and {@code \} escaped. */
    private static final String SF_STRING = "\"((?:[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]|\\\\[\"\\\\])*)\"";
    private static final Pattern POLICY = Pattern.compile(SF_STRING + ";q=\\d+;w=\\d+");
    private static final Pattern RATELIMIT = Pattern.compile(SF_STRING + ";r=\\d+;t=\\d+");
    /** Budget ids as the config and the user-id rule allow them. */
    private static final Pattern BUDGET_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@+-]{0,250}");
    /** Headers the gateway computes from a decision: each at most once. */
    private static final List<String> DECISION_HEADERS = List.of("x-tokenbudget-decision", "x-tokenbudget-budget",
            "x-tokenbudget-remaining-tokens", "x-tokenbudget-utilization", "ratelimit", "ratelimit-policy",
            "retry-after");

    /** One attempt: the raw header lines to add, the status expected, and for a 200 the budget named. */
    private record Attempt(String name, String headerLines, int status, String budget) {
    }

    /** Who answered a 400: Netty (the request never reached the filter) or the engine. */
    private enum Refusal { NETTY, ENGINE }

    private static String utf8AsBytes(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    private static List<Attempt> userAttempts() {
        String u = "x-tokenbudget-user: ";
        String u128 = "u".repeat(128);
        return List.of(
                new Attempt("CRLF ends the value: the rest is a request header of its own",
                        u + "eve-crlf\r\nX-Injected: 1\r\n", 200, "user:a:eve-crlf"),
                new Attempt("bare LF", u + "eve-lf\nX-Injected: 1\r\n", 400, null),
                new Attempt("bare CR", u + "eve-cr\rX-Injected: 1\r\n", 400, null),
                new Attempt("NUL", u + "eve\u0000X-Injected: 1\r\n", 400, null),
                new Attempt("NUL at the end", u + "eve-nul\u0000\r\n", 400, null),
                new Attempt("vertical tab", u + "eve\u000bX-Injected: 1\r\n", 400, null),
                new Attempt("obsolete line folding", u + "eve-fold\r\n X-Injected: 1\r\n", 400, null),
                new Attempt("UTF-8", u + utf8AsBytes("josé") + "\r\n", 400, null),
                new Attempt("UTF-8 line separators", u + utf8AsBytes("eve\u2028X-Injected: 1\u0085") + "\r\n", 400,
                        null),
                new Attempt("Latin-1 and 0xFF", u + "jos\u00e9\u00ff\r\n", 400, null),
                new Attempt("structured-field quote", u + "eve\";q=999999999;w=1, \"x\r\n", 400, null),
                new Attempt("backslash", u + "eve\\\"\r\n", 400, null),
                new Attempt("list comma", u + "eve,X-Injected\r\n", 400, null),
                new Attempt("percent-encoded CRLF", u + "eve%0d%0aX-Injected:%201\r\n", 400, null),
                new Attempt("128 characters, the longest allowed", u + u128 + "\r\n", 200, "user:a:" + u128),
                new Attempt("129 characters", u + "u".repeat(129) + "\r\n", 400, null),
                new Attempt("4 KiB", u + "u".repeat(4096) + "\r\n", 400, null),
                new Attempt("blanks around", u + "\t eve-blank \t\r\n", 200, "user:a:eve-blank"),
                new Attempt("every allowed character", u + "Eve.O_Neil@example.com:+1-2\r\n", 200,
                        "user:a:Eve.O_Neil@example.com:+1-2"));
    }

    @Test
    void noUserHeaderValueInjectsAResponseHeaderOrBreaksTheResponse() throws IOException {
        for (Attempt a : userAttempts()) {
            RawHttp.Exact r = attempt(a);
            if (a.status() == 200) {
                assertThat(r.response().header("x-tokenbudget-budget")).as(a.name()).isEqualTo(a.budget());
                assertThat(r.response().header("ratelimit-policy")).as(a.name()).startsWith("\"" + a.budget() + "\";");
            } else if (refusedBy(r) == Refusal.ENGINE) {
                assertThat(code(r)).as(a.name()).isEqualTo("invalid_request");
                assertThat(message(r)).as(a.name()).contains("user id must be 1-128 of A-Z a-z 0-9 . _ @ : + -");
            }
        }
    }

    @Test
    void featureHeaderValuesAreRefusedWithoutEchoingThem() throws IOException {
        String f = "x-tokenbudget-feature: ";
        List<Attempt> attempts = List.of(
                new Attempt("CRLF", f + "a-chat\r\nX-Injected: 1\r\n", 200, null),
                new Attempt("bare CR", f + "a-chat\rX-Injected: 1\r\n", 400, null),
                new Attempt("obsolete line folding", f + "a-chat\r\n X-Injected: 1\r\n", 403, null),
                new Attempt("UTF-8 line separators", f + utf8AsBytes("a-chat\u2028X-Injected: 1") + "\r\n", 403, null),
                new Attempt("structured-field quote", f + "a-chat\";q=1, \"b-chat\r\n", 403, null),
                new Attempt("another tenant's feature", f + "b-chat\r\n", 403, null),
                new Attempt("4 KiB", f + "a".repeat(4096) + "\r\n", 403, null));
        for (Attempt a : attempts) {
            RawHttp.Exact r = attempt(a);
            if (a.status() == 403) {
                assertThat(code(r)).as(a.name()).isEqualTo("feature_not_allowed");
                assertThat(r.response().header("x-tokenbudget-budget")).as(a.name()).isEqualTo("tenant-a");
                // the message names the feature, made safe: no raw bytes, no quote, at most 64 characters
                assertThat(message(r)).as(a.name()).doesNotContain("X-Injected: 1").doesNotContain("\"")
                        .matches("key 'a' may not use feature '[A-Za-z0-9._:?-]{1,64}'");
            } else if (a.status() == 200) {
                // charged to the feature's path (a-chat under tenant-a); the binding budget is either
                assertThat(r.response().header("x-tokenbudget-budget")).as(a.name()).isIn("a-chat", "tenant-a");
            }
        }
    }

    @Test
    void aRejectionForAUserAtItsLimitCarriesWellFormedRetryAfterAndRateLimitFields() throws IOException {
        String user = "eve-quota@example.com";
        RawHttp.Exact last = null;
        // the user's day is 1,000 tokens; each request reserves about 16 + 900 and uses about 64
        for (int i = 0; i < 10 && (last == null || last.response().status() == 200); i++) {
            last = attempt(new Attempt("quota", "x-tokenbudget-user: " + user + "\r\n", -1, null), 900);
        }
        assertThat(last.response().status()).isEqualTo(429);
        assertThat(last.response().header("x-tokenbudget-budget")).isEqualTo("user:a:" + user);
        assertThat(last.response().header("retry-after")).matches("[1-9][0-9]*");
        assertThat(last.response().header("ratelimit")).startsWith("\"user:a:" + user + "\";r=");
        assertThat(code(last)).isEqualTo("token_budget_exceeded");
    }

    /** Sends the attempt (status -1: any) on a fresh connection, checks the head, and that the gateway still serves. */
    private RawHttp.Exact attempt(Attempt a) throws IOException {
        return attempt(a, 20);
    }

    private RawHttp.Exact attempt(Attempt a, long maxTokens) throws IOException {
        RawHttp.Exact r;
        try (RawHttp c = RawHttp.connect(port)) {
            r = send(c, a.headerLines(), maxTokens);
            if (a.status() > 0) {
                assertThat(r.response().status()).as(a.name() + ": " + r.headText()).isEqualTo(a.status());
            }
            assertCleanHead(a.name(), r);
            if (!"close".equalsIgnoreCase(r.response().header("connection"))) {
                RawHttp.Exact next = send(c, "", 20);
                assertThat(next.response().status()).as(a.name() + ": the next request on the connection")
                        .isEqualTo(200);
                assertCleanHead(a.name() + " (next)", next);
            }
        }
        try (RawHttp c = RawHttp.connect(port)) {
            assertThat(send(c, "", 20).response().status()).as(a.name() + ": a new connection").isEqualTo(200);
        }
        return r;
    }

    private RawHttp.Exact send(RawHttp c, String extraHeaderLines, long maxTokens) throws IOException {
        byte[] body = Http.chat("inject", maxTokens, false).getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        req.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + KEY_A
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n" + extraHeaderLines
                + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        req.write(body);
        c.send(req.toByteArray());
        return c.readExact();
    }

    /**
     * The head as sent: CRLF line ends only, visible ASCII, space and tab only, well-formed header
     * lines, no smuggled header, each decision header at most once, RateLimit fields that parse and
     * name the budget of {@code x-tokenbudget-budget}, Retry-After only on 429/503 and numeric.
     */
    static void assertCleanHead(String what, RawHttp.Exact r) {
        String head = r.headText();
        assertThat(head).as(what).endsWith("\r\n\r\n");
        String[] lines = head.substring(0, head.length() - 4).split("\r\n", -1);
        assertThat(lines[0]).as(what).matches("HTTP/1\\.1 [1-5][0-9][0-9] [\\x20-\\x7E]*");
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            assertThat(line).as("%s: header line %d of\n%s", what, i, head).matches("[\\x20-\\x7E\\t]*");
            Matcher m = HEADER_LINE.matcher(line);
            assertThat(m.matches()).as("%s: a well-formed header line: %s", what, line).isTrue();
            String name = m.group(1).toLowerCase(Locale.ROOT);
            assertThat(name).as(what).isNotEqualTo("x-injected");
            seen.merge(name, 1, Integer::sum);
        }
        for (String h : DECISION_HEADERS) {
            assertThat(seen.getOrDefault(h, 0)).as("%s: %s appears at most once", what, h).isLessThanOrEqualTo(1);
        }
        Http.Response res = r.response();
        String budget = res.header("x-tokenbudget-budget");
        if (budget != null) {
            assertThat(budget).as(what).matches(BUDGET_ID);
        }
        for (Map.Entry<String, Pattern> f : Map.of("ratelimit-policy", POLICY, "ratelimit", RATELIMIT).entrySet()) {
            String v = res.header(f.getKey());
            if (v != null) {
                Matcher m = f.getValue().matcher(v);
                assertThat(m.matches()).as("%s: %s parses: %s", what, f.getKey(), v).isTrue();
                assertThat(m.group(1)).as(what).isEqualTo(budget);
            }
        }
        String retryAfter = res.header("retry-after");
        if (retryAfter != null) {
            assertThat(res.status()).as("%s: Retry-After only where a retry can succeed", what).isIn(429, 503);
            assertThat(retryAfter).as(what).matches("[0-9]+");
        }
        String type = res.header("content-type");
        if (type != null && type.startsWith("application/json")) {
            assertThat(json(what, res.body())).as(what).isNotNull();
        }
        assertThat(res.status()).as("%s: never a server error", what).isLessThan(500);
    }

    private static Refusal refusedBy(RawHttp.Exact r) {
        return r.response().header("x-tokenbudget-decision") == null ? Refusal.NETTY : Refusal.ENGINE;
    }

    private static String code(RawHttp.Exact r) {
        return json("code", r.response().body()).path("error").path("code").asText();
    }

    private static String message(RawHttp.Exact r) {
        return json("message", r.response().body()).path("error").path("message").asText();
    }

    private static JsonNode json(String what, String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new AssertionError(what + ": the body is not JSON: " + body, e);
        }
    }
}
