package dev.tokenbudget.cloudauth;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests signed by {@link AwsSigV4Signer} with credentials from the SDK's default chain (static test
 * credentials in Java system properties) reach a loopback server that verifies them with the SDK's
 * signing rules ({@link SigV4Verifier}); a body changed after signing, or another region, fails.
 */
class AwsSigV4SignerTest {

    private static HttpServer server;
    private static volatile String lastProblem;
    private static volatile String lastToken;

    @BeforeAll
    static void start() throws IOException {
        System.setProperty("aws.accessKeyId", "AKIDEXAMPLETOKENBUDGET");
        System.setProperty("aws.secretAccessKey", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        System.setProperty("aws.sessionToken", "session-token-of-the-test");
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        server.createContext("/", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            Map<String, String> h = new HashMap<>();
            ex.getRequestHeaders().forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), v.get(0)));
            URI uri = URI.create("http://" + h.get("host") + ex.getRequestURI().getRawPath()
                    + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery()));
            lastProblem = SigV4Verifier.problem(ex.getRequestMethod(), uri, h, body,
                    DefaultCredentialsProvider.builder().build(), "bedrock", "us-east-1");
            lastToken = h.get("x-amz-security-token");
            byte[] out = (lastProblem == null ? "{}" : "{\"message\":\"" + lastProblem.replace("\"", "'") + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(lastProblem == null ? 200 : 403, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        server.start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        System.clearProperty("aws.sessionToken");
    }

    private static int send(AwsSigV4Signer signer, String path, String signedBody, String sentBody) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
        Map<String, String> sig = signer.sign("POST", uri, Map.of("content-type", "application/json"),
                signedBody.getBytes(StandardCharsets.UTF_8));
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(sentBody));
        sig.forEach(b::header);
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void aSignedRequestVerifiesWithTheSdksRulesEncodedModelIdAndSessionTokenIncluded() throws Exception {
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}]}";
        int status = send(AwsSigV4Signer.defaultChain("us-east-1"),
                "/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse-stream", body, body);
        assertThat(lastProblem).isNull();
        assertThat(status).isEqualTo(200);
        assertThat(lastToken).isEqualTo("session-token-of-the-test");
    }

    @Test
    void aBodyChangedAfterSigningFailsVerification() throws Exception {
        String body = "{\"inferenceConfig\":{\"maxTokens\":6000}}";
        int status = send(AwsSigV4Signer.defaultChain("us-east-1"), "/model/m/converse", body,
                body.replace("6000", "256"));
        assertThat(status).isEqualTo(403);
        assertThat(lastProblem).startsWith("signature mismatch");
    }

    @Test
    void anotherRegionsSignatureIsRefused() throws Exception {
        int status = send(AwsSigV4Signer.defaultChain("eu-west-1"), "/model/m/converse", "{}", "{}");
        assertThat(status).isEqualTo(403);
        assertThat(lastProblem).isEqualTo("wrong scope eu-west-1/bedrock");
    }

    @Test
    void aRegionThatIsNoRegionIsRefusedAtOnce() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AwsSigV4Signer.defaultChain("bedrock"))
                .hasMessageContaining("region must be an AWS region");
    }
}
