package dev.tokenbudget.scg;

import dev.tokenbudget.cloudauth.GoogleTokenServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Vertex AI authorised by a Google service account (the subclasses name its file through
 * {@code tokenbudget.vertex-credentials-file} or Application Default Credentials): the key is
 * generated at test time, the file's {@code token_uri} points at a loopback token endpoint
 * ({@link GoogleTokenServer}), and the fake Vertex API accepts only a token that endpoint issued
 * and that has not expired. The gateway replaces the virtual key with
 * {@code Authorization: Bearer <token>}, settles exactly, and fetches a new token when the one it
 * holds is about to expire. The endpoint issues 30-second tokens, which are inside the library's
 * refresh margin at once, so every request fetches a new token while the old one is still valid.
 */
abstract class GoogleTokenRouteTestBase extends GatewayTestBase {

    static final GoogleTokenServer GOOGLE = new GoogleTokenServer(30);

    private static final String GEMINI = "/v1/projects/acme/locations/us-central1/publishers/google/models/gemini-2.5-flash";
    private static final String CONTENTS = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Explain budgets\"}]}],"
            + "\"generationConfig\":{\"maxOutputTokens\":40}}";

    @BeforeEach
    void requireGoogleTokens() {
        VERTEX.requireApiKey(null).requireAuthorization(req -> GOOGLE.problem(req.header("authorization")));
    }

    @AfterEach
    void backToKeys() {
        VERTEX.requireAuthorization(null).requireApiKey("ya29.it-vertex");
    }

    private HttpResponse<byte[]> post(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(baseUrl() + path))
                .header("Authorization", "Bearer vk-it-cloud").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(CONTENTS)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Sends, checks the upstream's token and the exact settle; returns the bearer the upstream got. */
    private String settledWithAGoogleToken(String path) throws Exception {
        long before = used("cloud").total();
        HttpResponse<byte[]> r = post(path);
        assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        String bearer = VERTEX.lastExchange().request().header("authorization");
        assertThat(bearer).startsWith("Bearer ya29.sa-").doesNotContain("vk-it-cloud");
        long reported = VERTEX.lastExchange().usage().orElseThrow().totalTokens();
        await("settled with the reported usage", () -> used("cloud").total() - before == reported
                && reserved("cloud").total() == 0);
        return bearer;
    }

    @Test
    void everyRequestCarriesATokenOfTheServiceAccountStreamsIncluded() throws Exception {
        settledWithAGoogleToken(GEMINI + ":generateContent");
        settledWithAGoogleToken(GEMINI + ":streamGenerateContent?alt=sse");
    }

    @Test
    void aTokenAboutToExpireIsReplacedBeforeItExpires() throws Exception {
        int before = GOOGLE.issued();
        String a = settledWithAGoogleToken(GEMINI + ":generateContent");
        String b = settledWithAGoogleToken(GEMINI + ":generateContent");
        assertThat(GOOGLE.issued() - before).isEqualTo(2);
        assertThat(b).isNotEqualTo(a);
        assertThat(GOOGLE.problem(a)).as("the replaced token had not expired yet").isNull();
    }

    @Test
    void theFakeRefusesATokenItsServerDidNotIssue() throws Exception {
        // the check is real: the same Vertex API refuses the static token the other routes use
        HttpResponse<String> direct = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(VERTEX.baseUrl() + GEMINI + ":generateContent")).header("Authorization", "Bearer ya29.it-vertex")
                .POST(HttpRequest.BodyPublishers.ofString(CONTENTS)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(direct.statusCode()).isEqualTo(403);
    }
}
