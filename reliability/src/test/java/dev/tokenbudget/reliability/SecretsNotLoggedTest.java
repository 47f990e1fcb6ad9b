package dev.tokenbudget.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.testing.Poll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No secret reaches a log. A gateway in a JVM of its own (so that everything it writes is read,
 * from the first line of start-up to the last of shutdown), with {@code dev.tokenbudget} at TRACE
 * and everything else at INFO, serves every kind of request: admitted JSON and streams with the
 * virtual key in each place a client puts it, unknown keys (401), a key in Basic credentials, a
 * forbidden feature (403), an invalid user (400), an exhausted budget (429), a stream the client
 * cancels, a stream held upstream until its lease expires and is charged, and the admin API with
 * its token, a wrong one and one in the query. Then the whole output is searched for the virtual
 * keys, the provider key and the admin token: raw, URL-encoded, base64 at any alignment (as in
 * Basic credentials), hex, and any 16-character half of each.
 *
 * <p>Nothing here waits on wall-clock lease expiry with a tight bound: the lease is two seconds,
 * the sweep runs every 200 ms, and the test polls the budget's state through the admin API for up
 * to three minutes (a loaded machine makes it slower, not flaky); the stream stays held upstream
 * until then.
 */
class SecretsNotLoggedTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    /** {@code prefix+<16 random>/<16 random>}: '+' and '/' change under URL and base64 encoding. */
    private static String secret(String prefix) {
        return prefix + "+" + half() + "/" + half();
    }

    private static String half() {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private final String vkOk = secret("vk-ok");
    private final String vkStop = secret("vk-stop");
    private final String vkLease = secret("vk-lease");
    private final String vkUnknown = secret("vk-unknown");
    private final String providerKey = secret("sk-provider");
    private final String adminToken = secret("admin-token");

    @Test
    void noSecretReachesTheLogOfAGatewayAtTrace() throws Exception {
        Map<String, String> secrets = new LinkedHashMap<>();
        secrets.put("virtual key (admitted)", vkOk);
        secrets.put("virtual key (429)", vkStop);
        secrets.put("virtual key (expired lease)", vkLease);
        secrets.put("unknown virtual key", vkUnknown);
        secrets.put("provider API key", providerKey);
        secrets.put("admin token", adminToken);
        // the detector itself finds each form it claims to
        for (String s : secrets.values()) {
            assertThat(leaks("Authorization: Basic " + base64("user:" + s), secrets)).isNotEmpty();
            assertThat(leaks("GET /v1?key=" + url(s), secrets)).isNotEmpty();
            assertThat(leaks("key=" + s.substring(0, s.indexOf('/')) + "...", secrets)).isNotEmpty();
        }

        // held streams wait until opened (at most five minutes), longer than any wait below
        Gate gate = new Gate(1, Duration.ofMinutes(5));
        FakeProvider upstream = FakeProvider.start(0).requireApiKey(providerKey).tokensPerChunk(4).pacer(gate);
        String config = EngineYaml.file("""
                lease_ttl: 2s
                defaults: {zone: UTC, output_tokens: 256}
                providers:
                  openai: {api_key_env: REL_OPENAI_KEY}
                budgets:
                  - {id: secrets-org, windows: [{period: month, limits: {total: 100M}}]}
                  - {id: secrets-ok, parent: secrets-org, windows: [{period: day, limits: {total: 10M}}]}
                  - {id: secrets-chat, parent: secrets-ok, windows: [{period: day, limits: {total: 10M}}]}
                  - id: secrets-stop
                    parent: secrets-org
                    windows: [{period: day, limits: {total: 300}}]
                    thresholds: [{at: 100, policy: hard_stop}]
                  - {id: secrets-lease, parent: secrets-org, windows: [{period: day, limits: {total: 10M}}]}
                keys:
                """ + EngineYaml.key("ok", vkOk, "secrets-ok", "features: [secrets-chat], "
                + "user_windows: [{period: day, limits: {total: 1M}}]")
                + EngineYaml.key("stop", vkStop, "secrets-stop", "")
                + EngineYaml.key("lease", vkLease, "secrets-lease", ""));
        GatewayProcess gw = GatewayProcess.start(Map.of("REL_OPENAI_KEY", providerKey, "TOKENBUDGET_ADMIN_TOKEN",
                        adminToken), "--rel.upstream.openai=" + upstream.baseUrl(), "--tokenbudget.config=" + config,
                "--tokenbudget.lease-sweep-interval=200ms", "--rel.admin.port=0", "--logging.level.root=INFO",
                "--logging.level.dev.tokenbudget=TRACE");
        Thread leaseClient = null;
        try {
            String chat = gw.url() + "/v1/chat/completions";
            String admin = "http://127.0.0.1:" + gw.adminPort();

            // admitted, with the key where clients put it; a stream
            assertThat(Http.post(chat, Http.chat("json", 20, false), "Authorization", "Bearer " + vkOk).status())
                    .isEqualTo(200);
            assertThat(Http.post(chat, Http.chat("x-api-key", 20, false), "x-api-key", vkOk).status()).isEqualTo(200);
            assertThat(Http.post(chat + "?key=" + url(vkOk), Http.chat("query", 20, false)).status()).isEqualTo(200);
            Http.Response stream = Http.post(chat, Http.chat("stream", 20, true), "Authorization", "Bearer " + vkOk,
                    "x-tokenbudget-user", "bob@example.com", "x-tokenbudget-feature", "secrets-chat");
            assertThat(stream.status()).isEqualTo(200);
            assertThat(stream.body()).contains("[DONE]");
            // refused: unknown keys, a key in Basic credentials, forbidden feature, invalid user, exhausted budget
            assertThat(Http.post(chat, Http.chat("unknown", 20, false), "Authorization", "Bearer " + vkUnknown)
                    .status()).isEqualTo(401);
            assertThat(Http.post(chat + "?key=" + url(vkUnknown), Http.chat("unknown", 20, false)).status())
                    .isEqualTo(401);
            assertThat(Http.post(chat, Http.chat("basic", 20, false), "Authorization", "Basic " + base64(vkOk + ":"))
                    .status()).isEqualTo(401);
            assertThat(Http.post(chat, Http.chat("feature", 20, false), "Authorization", "Bearer " + vkOk,
                    "x-tokenbudget-feature", "secrets-lease").status()).isEqualTo(403);
            assertThat(Http.post(chat, Http.chat("user", 20, false), "Authorization", "Bearer " + vkOk,
                    "x-tokenbudget-user", "bob smith").status()).isEqualTo(400);
            int status = 200;
            for (int i = 0; i < 10 && status == 200; i++) {
                status = Http.post(chat, Http.chat("stop", 200, false), "Authorization", "Bearer " + vkStop).status();
            }
            assertThat(status).as("the 300-token budget refuses").isEqualTo(429);

            // a stream the client cancels, and one held upstream until its lease expires
            gate.close();
            RawHttp cancelled = RawHttp.connect(gw.port());
            byte[] body = Http.chat("cancel", 50, true).getBytes(StandardCharsets.UTF_8);
            cancelled.send("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + vkOk
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n");
            cancelled.send(body);
            AtomicReference<Http.Response> late = new AtomicReference<>();
            String leaseBody = Http.chat("lease", 300, true);
            leaseClient = new Thread(() -> late.set(Http.post(chat, leaseBody, "Authorization", "Bearer " + vkLease)),
                    "lease-client");
            leaseClient.start();
            Http.await("both streams held upstream", () -> gate.waiting() == 2);
            cancelled.close();
            long reservation = Reservations.inputEstimate(leaseBody) + 300;
            // generous, because a loaded machine is slow, not wrong
            Poll.await("the held stream's lease expired and charged at its reservation", Duration.ofMinutes(3),
                    Duration.ofMillis(100), () -> {
                JsonNode w = adminGet(admin, "/v1/budgets/secrets-lease", "Bearer " + adminToken).path("windows").get(0);
                return w.path("reserved").path("total").asLong() == 0 && w.path("used").path("total").asLong()
                        == reservation;
            });
            gate.open();
            leaseClient.join(120_000);
            assertThat(late.get().status()).as("the late client still gets its stream").isEqualTo(200);

            // the admin API: with its token, a limit change, a wrong token, the token in the query or in Basic
            assertThat(adminStatus(admin, "GET", "/v1/budgets", "Bearer " + adminToken, null)).isEqualTo(200);
            assertThat(adminStatus(admin, "PUT", "/v1/budgets/secrets-ok/limits", "Bearer " + adminToken,
                    "{\"window\":\"day\",\"limits\":{\"total\":20000000},\"reason\":\"secrets test\"}")).isEqualTo(200);
            assertThat(adminStatus(admin, "GET", "/v1/budgets", "Bearer " + adminToken + "x", null)).isEqualTo(401);
            assertThat(adminStatus(admin, "GET", "/v1/budgets?token=" + url(adminToken), null, null)).isEqualTo(401);
            assertThat(adminStatus(admin, "GET", "/v1/budgets", "Basic " + base64("admin:" + adminToken), null))
                    .isEqualTo(401);
        } finally {
            gate.open();
            if (leaseClient != null) {
                leaseClient.join(120_000);
            }
            gw.stop();
            upstream.close();
        }

        String log = gw.log();
        // the log is the whole process's: start-up, the expired lease, the admin API, shutdown
        assertThat(log).contains("Started ReliabilityGatewayApp").contains("expired unsettled")
                .contains("tokenbudget admin API and dashboard on");
        assertThat(leaks(log, secrets)).as("secrets in the gateway's output").isEmpty();
    }

    /** Each line of {@code log} holding a secret in any form, named by which secret and form. */
    private static List<String> leaks(String log, Map<String, String> secrets) {
        List<String> found = new ArrayList<>();
        for (String line : log.split("\n")) {
            String lower = line.toLowerCase(Locale.ROOT);
            for (Map.Entry<String, String> s : secrets.entrySet()) {
                for (Map.Entry<String, String> form : forms(s.getValue()).entrySet()) {
                    String needle = form.getKey();
                    if (line.contains(needle) || (form.getValue().startsWith("hex") && lower.contains(needle))) {
                        found.add(s.getKey() + " (" + form.getValue() + "): " + line);
                    }
                }
            }
        }
        return found;
    }

    /** Search strings for a secret, each with the encoding it stands for. */
    private static Map<String, String> forms(String secret) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put(secret, "raw");
        f.put(url(secret), "URL-encoded");
        f.put(URLEncoder.encode(url(secret), StandardCharsets.UTF_8), "URL-encoded twice");
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        f.put(HexFormat.of().formatHex(bytes), "hex");
        // base64 of any text holding the secret: the characters fixed by the secret's own bytes,
        // at each of the three alignments it can have in the encoded text
        for (int offset = 0; offset < 3; offset++) {
            byte[] padded = new byte[offset + bytes.length];
            System.arraycopy(bytes, 0, padded, offset, bytes.length);
            for (Base64.Encoder enc : List.of(Base64.getEncoder(), Base64.getUrlEncoder())) {
                String e = enc.encodeToString(padded);
                int from = offset == 0 ? 0 : (offset * 4 + 2) / 3;
                int to = (padded.length / 3) * 4;
                f.putIfAbsent(e.substring(from, to), "base64 at offset " + offset);
            }
        }
        // any 16-character half of the random part (a truncated or partly masked secret)
        Set<String> halves = new LinkedHashSet<>();
        for (String part : secret.split("[+/]")) {
            if (part.length() == 16) {
                halves.add(part);
            }
        }
        halves.forEach(h -> f.put(h, "a 16-character part"));
        return f;
    }

    private static String url(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static JsonNode adminGet(String admin, String path, String authorization) {
        HttpResponse<String> r = admin(admin, "GET", path, authorization, null);
        if (r.statusCode() != 200) {
            throw new AssertionError("GET " + path + ": " + r.statusCode() + " " + r.body());
        }
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError(r.body(), e);
        }
    }

    private static int adminStatus(String admin, String method, String path, String authorization, String body) {
        return admin(admin, method, path, authorization, body).statusCode();
    }

    private static HttpResponse<String> admin(String admin, String method, String path, String authorization,
                                              String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(admin + path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        try {
            return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
