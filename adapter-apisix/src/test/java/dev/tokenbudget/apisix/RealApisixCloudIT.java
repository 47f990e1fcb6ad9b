package dev.tokenbudget.apisix;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.cloudauth.GoogleTokenServer;
import dev.tokenbudget.cloudauth.SigV4Verifier;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.PemTls;
import dev.tokenbudget.fake.RecordedRequest;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.store.redis.TestCertificates;
import dev.tokenbudget.store.redis.TestRedis;
import dev.tokenbudget.apisix.BudgetProbe.Settled;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.tokenbudget.apisix.BudgetProbe.freePort;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * AWS Bedrock and Google Vertex AI through a real Apache APISIX 3.9.1 (the kit) and the real plugin
 * runner with the shipped plugin jar: the runner signs Bedrock requests with SigV4 (credentials from
 * the AWS SDK's default chain: the runner's environment, a session token included) for the host the
 * route conf's {@code upstream} names and {@code pass_host} sends, over the client's body and the
 * path nginx sends, and authorises Vertex requests with a token from Google's Application Default
 * Credentials (a generated service account whose token endpoint is a loopback stand-in). The fake
 * provider, over https with a CA nginx verifies, checks the signature with the AWS SDK's rules or
 * the token, and the route's http-logger reports each response, Bedrock's binary event stream
 * included, to the settle endpoint, which settles exactly what the provider reported.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealApisixCloudIT {

    private static final String SECRET = "it-settle-secret-" + Long.toString(System.nanoTime(), 36);
    private static final String ACCESS_KEY = "AKIDAPISIXCLOUDIT";
    private static final String SECRET_KEY = "c2VjcmV0LW9mLXRoZS1hcGlzaXgtY2xvdWQtdGVzdA";
    private static final String SESSION = "FwoGZXIvYXdzEApisixSessionToken";
    private static final AwsCredentialsProvider AWS = StaticCredentialsProvider.create(
            AwsSessionCredentials.create(ACCESS_KEY, SECRET_KEY, SESSION));
    private static final String BEDROCK_HOST = "bedrock-runtime.us-east-1.amazonaws.com";
    private static final String VERTEX_HOST = "us-east5-aiplatform.googleapis.com";
    private static final String CLOUD = "vk-it-cloud-apisix";
    private static final String TIGHT = "vk-it-cloud-tight";
    private static final String SAVER = "vk-it-cloud-saver";
    private static final String HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1%3A0";
    private static final String OPUS = "us.anthropic.claude-opus-4-7-v1%3A0";
    private static final String CONVERSE = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Explain token "
            + "budgets.\"}]}],\"inferenceConfig\":{\"maxTokens\":%d}}";
    private static final String GEMINI = "/v1/projects/acme/locations/us-east5/publishers/google/models/gemini-2.5-flash";
    private static final String CONTENTS = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Explain budgets\"}]}],"
            + "\"generationConfig\":{\"maxOutputTokens\":%d}}";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static Path dir;
    private static String prefix;
    private static FakeProvider provider;
    private static GoogleTokenServer google;
    private static ApisixKit kit;
    private static RunnerProcess runner;
    private static BudgetEngine engine;
    private static BudgetProbe probe;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("tb-real-apisix-cloud");
        kit = ApisixKit.install(Path.of("target", "apisix-kit-home").toAbsolutePath(),
                Map.of("TOKENBUDGET_SETTLE_SECRET", SECRET));
        TestCertificates certs = TestCertificates.in(dir);
        TestCertificates.Pair ca = certs.authority("ca");
        TestCertificates.Pair cert = certs.server("clouds", ca, "DNS:" + BEDROCK_HOST + ",DNS:" + VERTEX_HOST);
        google = new GoogleTokenServer(3600);
        provider = FakeProvider.start(0, PemTls.serverContext(cert.cert(), cert.key()))
                .requireAuthorization(RealApisixCloudIT::problem);

        prefix = TestRedis.uniquePrefix("apisix-cloud");
        Path engineConfig = dir.resolve("tokenbudget.yaml");
        Files.writeString(engineConfig, engineConfig(prefix));
        engine = BudgetEngine.builder(ConfigLoader.load(engineConfig)).build();
        probe = new BudgetProbe(engine);

        int settlePort = freePort();
        Path adc = google.writeKeyFile(dir.resolve("service-account.json"));
        runner = RunnerProcess.start(Path.of(System.getProperty("tokenbudget.apisix.runnerJar")),
                Path.of(System.getProperty("tokenbudget.apisix.pluginJar")),
                Map.of("TOKENBUDGET_SETTLE_SECRET", SECRET, "AWS_ACCESS_KEY_ID", ACCESS_KEY,
                        "AWS_SECRET_ACCESS_KEY", SECRET_KEY, "AWS_SESSION_TOKEN", SESSION,
                        "GOOGLE_APPLICATION_CREDENTIALS", adc.toString()),
                List.of("-Dtokenbudget.apisix.settle-port=" + settlePort,
                        "-Dtokenbudget.apisix.bedrock-signing-region=us-east-1",
                        "-Dtokenbudget.apisix.vertex-application-default-credentials=true"), dir);
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, ShippedExamples.config(ca.cert(), freePort()));
        Path routes = dir.resolve("apisix.yaml");
        Files.writeString(routes, routes(engineConfig, settlePort));
        base = kit.start(config, routes, runner.socket());
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (kit != null) {
                kit.close();
            }
        } finally {
            if (runner != null) {
                runner.close();
            }
            if (provider != null) {
                provider.close();
            }
            if (google != null) {
                google.close();
            }
            if (engine != null) {
                engine.close();
            }
            if (prefix != null) {
                TestRedis.deleteKeys(prefix);
            }
        }
    }

    /** Bedrock's check: a SigV4 signature over the request as it arrived; Vertex's: a token Google issued. */
    private static String problem(RecordedRequest r) {
        Map<String, String> h = new HashMap<>();
        r.headers().forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), v.get(0)));
        if (!r.path().startsWith("/model/")) {
            return google.problem(h.get("authorization"));
        }
        URI uri = URI.create("https://" + h.get("host") + r.rawPath() + (r.query() == null ? "" : "?" + r.query()));
        return SigV4Verifier.problem(r.method(), uri, h, r.body(), AWS, "bedrock", "us-east-1");
    }

    private static String route(String id, String uri, String conf, String host, int settlePort) {
        return "  - id: " + id + "\n    uri: " + uri + "\n    methods: [POST]\n    plugins:\n"
                + "      ext-plugin-pre-req:\n        conf:\n          - name: TokenBudget\n"
                + "            value: '" + conf + "'\n"
                + "      http-logger:\n        uri: http://127.0.0.1:" + settlePort + "/tokenbudget/settle\n"
                + "        auth_header: \"Bearer ${{TOKENBUDGET_SETTLE_SECRET}}\"\n        include_resp_body: true\n"
                + "        batch_max_size: 1\n        inactive_timeout: 1\n        max_retry_count: 5\n"
                + "        retry_delay: 1\n        timeout: 5\n"
                + "    upstream:\n      type: roundrobin\n      scheme: https\n      pass_host: rewrite\n"
                + "      upstream_host: " + host + "\n      nodes:\n        \"127.0.0.1:" + provider.port() + "\": 1\n";
    }

    private static String routes(Path engineConfig, int settlePort) {
        return "routes:\n"
                + route("bedrock-budgeted", "/model/*", "{\"config\":\"" + engineConfig + "\",\"provider\":\"bedrock\","
                + "\"upstream\":\"https://" + BEDROCK_HOST + "\"}", BEDROCK_HOST, settlePort)
                + route("vertex-budgeted", "/v1/projects/*", "{\"config\":\"" + engineConfig
                + "\",\"provider\":\"vertex\"}", VERTEX_HOST, settlePort)
                + "#END\n";
    }

    private static String engineConfig(String keyPrefix) {
        return "store:\n  type: redis\n  redis:\n    uri: \"" + TestRedis.uri() + "\"\n    key_prefix: " + keyPrefix
                + "\n    timeout: 2s\n"
                + "lease_ttl: 20s\n"
                + "defaults:\n  zone: UTC\n  output_tokens: 200\n"
                + "budgets:\n"
                + "  - id: cloud\n    windows:\n      - { period: month, limits: { total: 10M } }\n"
                + "  - id: tight\n    parent: cloud\n    windows:\n      - { period: day, limits: { total: 300 } }\n"
                + "    thresholds:\n      - { at: 100, policy: hard_stop }\n"
                + "  - id: saver\n    parent: cloud\n    windows:\n      - { period: month, limits: { total: 600 } }\n"
                + "    thresholds:\n      - { at: 50, policy: degrade_route }\n"
                + "    degrade:\n      models: { \"us.anthropic.claude-opus-4-7-v1:0\": "
                + "\"us.anthropic.claude-haiku-4-5-20251001-v1:0\", gemini-2.5-pro: gemini-2.5-flash }\n"
                + "keys:\n" + key("cloud", CLOUD) + key("tight", TIGHT) + key("saver", SAVER);
    }

    private static String key(String budget, String secret) {
        return "  - { name: " + budget + "-key, sha256: " + KeyHash.of(secret) + ", budget: " + budget + " }\n";
    }

    // ---- the checks

    @Test
    @Order(1)
    void aSignedConverseIsVerifiedUpstreamAndSettledExactly() throws Exception {
        Settled s = probe.settled("cloud", provider, () -> {
            HttpResponse<byte[]> r = post("/model/" + HAIKU + "/converse", CLOUD, CONVERSE.formatted(60));
            assertThat(r.statusCode()).as(text(r) + kit.errorLog()).isEqualTo(200);
            assertThat(JSON.readTree(r.body()).path("usage").path("outputTokens").asLong()).isPositive();
            RecordedRequest sent = provider.lastExchange().request();
            assertThat(sent.header("authorization")).startsWith("AWS4-HMAC-SHA256 Credential=" + ACCESS_KEY + "/")
                    .doesNotContain(CLOUD);
            assertThat(sent.header("x-amz-security-token")).isEqualTo(SESSION);
            assertThat(sent.header("host")).isEqualTo(BEDROCK_HOST);
        });
        s.assertExact();
    }

    @Test
    @Order(2)
    void aBinaryConverseStreamReachesTheClientWholeAndIsSettledFromTheLoggedBody() throws Exception {
        Settled s = probe.settled("cloud", provider, () -> {
            HttpResponse<byte[]> r = post("/model/" + HAIKU + "/converse-stream", CLOUD, CONVERSE.formatted(60));
            assertThat(r.statusCode()).as(text(r) + kit.errorLog()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValue("application/vnd.amazon.eventstream");
            assertThat(r.body()).isEqualTo(provider.lastExchange().sentBody());
            assertThat(provider.lastExchange().streamed()).isTrue();
        });
        // exact: the settle endpoint read the binary frames byte for byte from http-logger's JSON
        s.assertExact();
    }

    @Test
    @Order(3)
    void vertexRequestsCarryTheServiceAccountsTokenAndSettleExactlyStreamsIncluded() throws Exception {
        for (String op : new String[] {":generateContent", ":streamGenerateContent?alt=sse"}) {
            Settled s = probe.settled("cloud", provider, () -> {
                HttpResponse<byte[]> r = post(GEMINI + op, CLOUD, CONTENTS.formatted(40));
                assertThat(r.statusCode()).as(text(r) + kit.errorLog()).isEqualTo(200);
                assertThat(provider.lastExchange().request().header("authorization")).startsWith("Bearer ya29.sa-");
            });
            s.assertExact();
        }
    }

    @Test
    @Order(4)
    void aDegradedBedrockRequestIsSignedOverItsRewrittenPath() throws Exception {
        spend(SAVER, 350); // past saver's degrade_route threshold, 50 % of 600
        Settled s = probe.settled("saver", provider, () -> {
            HttpResponse<byte[]> r = post("/model/" + OPUS + "/converse", SAVER, CONVERSE.formatted(20));
            assertThat(r.statusCode()).as(text(r) + kit.errorLog()).isEqualTo(200);
            RecordedRequest sent = provider.lastExchange().request();
            assertThat(sent.path()).isEqualTo("/model/us.anthropic.claude-haiku-4-5-20251001-v1:0/converse");
            assertThat(sent.header("x-tokenbudget-route")).isEqualTo("economy");
        });
        s.assertExact();
    }

    @Test
    @Order(5)
    void aDegradedVertexStreamKeepsItsQueryWithTheCheaperModelInItsPath() throws Exception {
        String pro = GEMINI.replace("gemini-2.5-flash", "gemini-2.5-pro");
        Settled s = probe.settled("saver", provider, () -> {
            HttpResponse<byte[]> r = post(pro + ":streamGenerateContent?alt=sse", SAVER, CONTENTS.formatted(20));
            assertThat(r.statusCode()).as(text(r) + kit.errorLog()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v ->
                    assertThat(v).startsWith("text/event-stream"));
            RecordedRequest sent = provider.lastExchange().request();
            assertThat(sent.path()).isEqualTo(GEMINI + ":streamGenerateContent");
            assertThat(sent.query()).isEqualTo("alt=sse");
            assertThat(sent.header("authorization")).startsWith("Bearer ya29.sa-");
        });
        s.assertExact();
    }

    @Test
    @Order(6)
    void rejectionsAre429InEachProvidersShapeAndNeverReachIt() throws Exception {
        spend(TIGHT, 200); // of tight's 300-token day: 200 more wait for tomorrow (429), they fit in a day
        long before = provider.tally().requests();
        HttpResponse<byte[]> bedrock = post("/model/" + HAIKU + "/converse", TIGHT, CONVERSE.formatted(200));
        assertThat(bedrock.statusCode()).as(text(bedrock)).isEqualTo(429);
        assertThat(bedrock.headers().firstValue("x-amzn-errortype")).hasValue("ThrottlingException");
        assertThat(JSON.readTree(bedrock.body()).path("message").asText()).isNotBlank();
        HttpResponse<byte[]> vertex = post(GEMINI + ":generateContent", TIGHT, CONTENTS.formatted(200));
        assertThat(vertex.statusCode()).as(text(vertex)).isEqualTo(429);
        assertThat(JSON.readTree(vertex.body()).path("error").path("status").asText()).isEqualTo("RESOURCE_EXHAUSTED");
        assertThat(provider.tally().requests()).isEqualTo(before);
    }

    // ---- helpers

    /** Charges {@code tokens} (half input, half output) to the key's budget through the shared store. */
    private static void spend(String key, long tokens) {
        engine.settle(engine.reserve(new BudgetRequest(engine.authenticate(key).orElseThrow(), null, null,
                "claude-haiku-4-5", tokens / 2, tokens - tokens / 2)), TokenUsage.of(tokens / 2, tokens - tokens / 2));
    }

    private static TokenCounts used(String budget) {
        return probe.used(budget);
    }

    private static HttpResponse<byte[]> post(String path, String key, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("authorization", "Bearer " + key)
                .header("content-type", "application/json").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

}
