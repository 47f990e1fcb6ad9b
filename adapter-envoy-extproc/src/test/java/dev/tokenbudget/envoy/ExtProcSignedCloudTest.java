package dev.tokenbudget.envoy;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import dev.tokenbudget.cloudauth.AwsSigV4Signer;
import dev.tokenbudget.cloudauth.GoogleAccessToken;
import dev.tokenbudget.cloudauth.SigV4Verifier;
import dev.tokenbudget.engine.EngineFixture;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.RecordedRequest;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.GatewayFixture;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.provider.Provider;
import dev.tokenbudget.usage.TokenUsage;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.split;
import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bedrock SigV4 and Vertex access tokens set by the ext_proc server: a real gRPC stream, the answers
 * applied as Envoy applies them ({@link EnvoyFilter}, BUFFERED request body), the request then sent
 * as Envoy's router sends it (the route's host rewrite to the fake provider's address, the
 * mutated path, headers and body) to the fake provider, which verifies the signature with the AWS
 * SDK's signing rules or checks the bearer token; its response goes back through the stream and
 * settles the reservation.
 */
class ExtProcSignedCloudTest {

    private static final AwsCredentialsProvider AWS = StaticCredentialsProvider.create(
            AwsSessionCredentials.create("AKIDEXTPROCSIGNED", "c2VjcmV0LW9mLXRoZS1leHQtcHJvYy10ZXN0", "FwoGZXIvYXdzEXAMPLE"));
    private static final String TOKEN = "ya29.extproc-vertex-token";
    private static final String HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1%3A0";
    private static final String OPUS = "us.anthropic.claude-opus-4-7-v1%3A0";
    private static final String CONVERSE = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}],"
            + "\"inferenceConfig\":{\"maxTokens\":700}}";
    /** Headers java.net.http sets itself (the host from the URL: the route's host rewrite). */
    private static final Set<String> SET_BY_CLIENT = Set.of("host", "content-length", "connection", "expect",
            "upgrade");

    private final FakeProvider fake = FakeProvider.start(0);
    private final String upstreamAuthority = "127.0.0.1:" + fake.port();
    private final ExtProcFixture fx = fixture((m, u, h, b) -> AwsSigV4Signer.of(AWS, "us-east-1", Clock.systemUTC())
            .sign(m, u, h, b));

    private ExtProcFixture fixture(dev.tokenbudget.gateway.UpstreamSigner bedrock) {
        EngineFixture engine = new EngineFixture(GatewayFixture.YAML);
        GatewayOptions options = GatewayOptions.custom()
                .prompt("support", GatewayFixture.SUPPORT_PROMPT).prompt("support-short", GatewayFixture.SUPPORT_SHORT)
                .upstreamSigner(Provider.BEDROCK, bedrock)
                .upstreamSigner(Provider.VERTEX, GoogleAccessToken.of(GoogleCredentials.create(
                        new AccessToken(TOKEN, Date.from(Instant.now().plusSeconds(3600))))))
                .build();
        return new ExtProcFixture(engine, new BudgetGateway(engine.engine, options),
                EnvoyRules.example(engine.clock::nanoTime),
                new UpstreamSigning(Map.of(Provider.BEDROCK, URI.create("http://" + upstreamAuthority))));
    }

    @AfterEach
    void close() throws Exception {
        fx.close();
        fake.close();
    }

    private static String sigV4Problem(RecordedRequest r) {
        Map<String, String> h = new HashMap<>();
        r.headers().forEach((k, v) -> h.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
        URI uri = URI.create("http://" + h.get("host") + r.rawPath() + (r.query() == null ? "" : "?" + r.query()));
        return SigV4Verifier.problem(r.method(), uri, h, r.body(), AWS, "bedrock", "us-east-1");
    }

    /** The request as Envoy's router sends it, after the answers, to the route's (rewritten) host. */
    private HttpResponse<byte[]> sendUpstream(EnvoyStream s) throws Exception {
        EnvoyFilter.UpstreamRequest up = s.envoy().upstreamRequest(upstreamAuthority);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + upstreamAuthority + up.path()))
                .version(HttpClient.Version.HTTP_1_1)
                .method(up.method(), HttpRequest.BodyPublishers.ofByteArray(up.body()));
        up.headers().forEach((k, vs) -> {
            if (!k.startsWith(":") && !SET_BY_CLIENT.contains(k)) {
                vs.forEach(v -> b.header(k, v));
            }
        });
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** The upstream's response through the stream, the body in uneven chunks. */
    private static void respond(EnvoyStream s, HttpResponse<byte[]> r) {
        s.exchange(responseHeaders(r.statusCode(), r.headers().firstValue("content-type").orElse(null), false));
        List<byte[]> parts = split(r.body(), 7);
        for (int i = 0; i < parts.size(); i++) {
            s.exchange(responseBody(parts.get(i), i == parts.size() - 1));
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aConverseStreamIsSignedForTheRoutesHostVerifiedUpstreamAndSettledExactly() throws Exception {
        fake.requireAuthorization(ExtProcSignedCloudTest::sigV4Problem);
        try (EnvoyStream s = fx.stream()) {
            Map<String, String> client = bearer(GatewayFixture.MAIN);
            client.put("x-amz-security-token", "a-stale-token-of-the-client");
            ProcessingResponse[] a = EnvoySequences.request(s, "/model/" + HAIKU + "/converse-stream", client,
                    utf8(CONVERSE));
            assertThat(a[1].hasImmediateResponse()).isFalse();
            HttpResponse<byte[]> r = sendUpstream(s);
            assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
            RecordedRequest sent = fake.lastExchange().request();
            assertThat(sent.header("authorization")).startsWith("AWS4-HMAC-SHA256 Credential=AKIDEXTPROCSIGNED/")
                    .doesNotContain(GatewayFixture.MAIN);
            assertThat(sent.header("x-amz-security-token")).isEqualTo("FwoGZXIvYXdzEXAMPLE");
            assertThat(sent.header("host")).isEqualTo(upstreamAuthority);
            respond(s, r);
        }
        fx.awaitNoOpenStreams();
        long reported = fake.lastExchange().usage().orElseThrow().totalTokens();
        assertThat(reported).isPositive();
        assertThat(fx.used("org")).isEqualTo(reported);
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void aDegradedRequestIsSignedOverItsRewrittenPathAndBody() throws Exception {
        fake.requireAuthorization(ExtProcSignedCloudTest::sigV4Problem);
        // half of cheap's 10,000-token day spent: its degrade_route threshold is reached
        fx.engine.engine.settle(fx.engine.reserve(GatewayFixture.CHEAP, null, 100, 100), TokenUsage.of(2500, 2500));
        try (EnvoyStream s = fx.stream()) {
            ProcessingResponse[] a = EnvoySequences.request(s, "/model/" + OPUS + "/converse",
                    bearer(GatewayFixture.CHEAP), utf8(CONVERSE));
            assertThat(a[1].hasImmediateResponse()).isFalse();
            assertThat(s.envoy().routeCleared()).isTrue();
            HttpResponse<byte[]> r = sendUpstream(s);
            assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
            RecordedRequest sent = fake.lastExchange().request();
            assertThat(sent.rawPath()).isEqualTo("/model/" + HAIKU + "/converse");
            assertThat(sent.bodyText()).contains("\"maxTokens\":256").doesNotContain("700");
            assertThat(sent.header("x-tokenbudget-route")).isEqualTo("economy");
            respond(s, r);
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("cheap")).isEqualTo(5000 + fake.lastExchange().usage().orElseThrow().totalTokens());
        assertThat(fx.reserved("cheap")).isZero();
    }

    @Test
    void theVerifierRefusesARequestSignedForAnotherHost() throws Exception {
        // the check is real: signed for the public endpoint, sent to another host, it is refused
        fake.requireAuthorization(ExtProcSignedCloudTest::sigV4Problem);
        EngineFixture engine = new EngineFixture(GatewayFixture.YAML);
        BudgetGateway gateway = new BudgetGateway(engine.engine, GatewayOptions.custom()
                .prompt("support", GatewayFixture.SUPPORT_PROMPT).prompt("support-short", GatewayFixture.SUPPORT_SHORT)
                .upstreamSigner(Provider.BEDROCK, AwsSigV4Signer.of(AWS, "us-east-1", Clock.systemUTC())).build());
        try (ExtProcFixture other = new ExtProcFixture(engine, gateway, EnvoyRules.example(engine.clock::nanoTime),
                new CloudSigning("us-east-1", null, false).upstreams()); EnvoyStream s = other.stream()) {
            EnvoySequences.request(s, "/model/" + HAIKU + "/converse", bearer(GatewayFixture.MAIN), utf8(CONVERSE));
            HttpResponse<byte[]> r = sendUpstream(s);
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.headers().firstValue("x-amzn-ErrorType")).contains("AccessDeniedException");
            respond(s, r);
        }
    }

    @Test
    void aVertexStreamGoesUpstreamWithTheAccessTokenAndIsSettled() throws Exception {
        fake.requireApiKey(TOKEN);
        byte[] req = utf8("{\"anthropic_version\":\"vertex-2023-10-16\",\"stream\":true,\"max_tokens\":300,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        try (EnvoyStream s = fx.stream()) {
            EnvoySequences.request(s, "/v1/projects/acme/locations/us-east5/publishers/anthropic/models/"
                    + "claude-sonnet-4-5@20250929:streamRawPredict", bearer(GatewayFixture.MAIN), req);
            HttpResponse<byte[]> r = sendUpstream(s);
            assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
            assertThat(fake.lastExchange().request().header("authorization")).isEqualTo("Bearer " + TOKEN);
            respond(s, r);
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isEqualTo(fake.lastExchange().usage().orElseThrow().totalTokens());
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void withoutCredentialsTheClientGetsABedrockShaped500AndTheReservationIsReleased() throws Exception {
        try (ExtProcFixture broken = fixture((m, u, h, b) -> {
            throw new IllegalStateException("Unable to load credentials from any of the providers in the chain");
        }); EnvoyStream s = broken.stream()) {
            ProcessingResponse[] a = EnvoySequences.request(s, "/model/" + HAIKU + "/converse",
                    bearer(GatewayFixture.MAIN), utf8(CONVERSE));
            ImmediateResponse ir = a[1].getImmediateResponse();
            assertThat(ir.getStatus().getCodeValue()).isEqualTo(500);
            assertThat(Mutations.set(ir.getHeaders())).containsKey("x-amzn-errortype");
            assertThat(ir.getBody().toStringUtf8()).contains("credentials").doesNotContain("chain");
            broken.awaitNoOpenStreams();
            assertThat(broken.reserved("org")).isZero();
            assertThat(broken.used("org")).isZero();
        }
    }
}
