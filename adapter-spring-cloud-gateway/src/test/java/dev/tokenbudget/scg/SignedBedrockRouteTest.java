package dev.tokenbudget.scg;

import dev.tokenbudget.cloudauth.SigV4Verifier;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Bedrock route whose requests the gateway signs with SigV4 (tokenbudget.bedrock-signing-region,
 * credentials from the AWS SDK's default chain: static test credentials in system properties): the
 * fake Bedrock verifies every signature with the SDK's rules, so a signature over anything but the
 * request as sent — the body of a degraded request is rewritten — is refused with 403.
 */
@TestPropertySource(properties = "tokenbudget.bedrock-signing-region=us-east-1")
class SignedBedrockRouteTest extends GatewayTestBase {

    private static final String ACCESS_KEY = "AKIDSIGNEDROUTETEST";
    private static final String SECRET = "c2VjcmV0LW9mLXRoZS1zaWduZWQtcm91dGUtdGVzdA";

    static {
        System.setProperty("aws.accessKeyId", ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", SECRET);
    }

    private static final String HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1%3A0";

    @BeforeEach
    void verifySignatures() {
        BEDROCK.requireApiKey(null).requireAuthorization(SignedBedrockRouteTest::problem);
    }

    @AfterEach
    void backToKeys() {
        BEDROCK.requireAuthorization(null).requireApiKey("ABSK-it-bedrock");
    }

    private static String problem(RecordedRequest r) {
        Map<String, String> h = new HashMap<>();
        r.headers().forEach((k, v) -> h.put(k, v.get(0)));
        URI uri = URI.create("http://" + h.get("host") + r.rawPath() + (r.query() == null ? "" : "?" + r.query()));
        return SigV4Verifier.problem(r.method(), uri, h, r.body(),
                StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET)), "bedrock", "us-east-1");
    }

    private HttpResponse<byte[]> post(String path, String key, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(baseUrl() + path))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void aSignedConverseStreamIsVerifiedUpstreamAndSettledExactly() throws Exception {
        long before = used("cloud").total();
        HttpResponse<byte[]> r = post("/model/" + HAIKU + "/converse-stream", "vk-it-cloud",
                "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}],\"inferenceConfig\":{\"maxTokens\":30}}");
        assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        RecordedRequest sent = BEDROCK.lastExchange().request();
        assertThat(sent.header("authorization")).startsWith("AWS4-HMAC-SHA256 Credential=" + ACCESS_KEY + "/")
                .doesNotContain("vk-it-cloud");
        assertThat(sent.rawPath()).isEqualTo("/model/" + HAIKU + "/converse-stream");
        long reported = BEDROCK.lastExchange().usage().orElseThrow().totalTokens();
        await("settled", () -> used("cloud").total() - before == reported && reserved("cloud").total() == 0);
    }

    @Test
    void theVerifierRefusesWhatIsNotSignedAsSent() throws Exception {
        // the check is real: the same request with the bearer key the other routes use is refused
        BEDROCK.requireAuthorization(SignedBedrockRouteTest::problem);
        HttpResponse<String> direct = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(BEDROCK.baseUrl() + "/model/" + HAIKU + "/converse")).header("Authorization", "Bearer x")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(direct.statusCode()).isEqualTo(403);
        assertThat(direct.headers().firstValue("x-amzn-ErrorType")).contains("AccessDeniedException");
    }

    @Test
    void aDegradedRequestIsSignedOverItsRewrittenPathAndBody() throws Exception {
        // 10M a day, degrading from 1%: a request reserving 150k crosses it
        HttpResponse<byte[]> r = post("/model/us.anthropic.claude-opus-4-7-v1%3A0/converse", "vk-it-cloud-degrade",
                "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}],"
                        + "\"inferenceConfig\":{\"maxTokens\":150000}}");
        assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        assertThat(r.headers().firstValue("x-tokenbudget-decision")).contains("degrade");
        RecordedRequest sent = BEDROCK.lastExchange().request();
        assertThat(sent.rawPath()).isEqualTo("/model/" + HAIKU + "/converse");
        assertThat(sent.bodyText()).contains("\"maxTokens\":64");
        // the fake verified the signature over exactly this path and body, or it would have answered 403
        assertThat(problem(sent)).isNull();
    }
}
