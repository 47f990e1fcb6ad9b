package dev.tokenbudget.cloudauth;

import com.google.auth.oauth2.GoogleCredentials;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Vertex AI access tokens from a service-account credential whose token endpoint is a loopback
 * stand-in of Google's OAuth token endpoint (RFC 7523 JWT-bearer grant, as the auth library's
 * {@code ServiceAccountCredentials.refreshAccessToken} sends it): the assertion is checked against
 * the account's public key, the token is cached while valid and fetched anew once it is about to
 * expire.
 */
class GoogleAccessTokenTest {

    private final GoogleTokenServer tokens = new GoogleTokenServer(3600);

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        tokens.close();
    }

    private GoogleAccessToken serviceAccount() throws IOException {
        try (InputStream key = Files.newInputStream(tokens.writeKeyFile(dir.resolve("sa.json")))) {
            return GoogleAccessToken.of(GoogleCredentials.fromStream(key));
        }
    }

    private static String bearer(GoogleAccessToken t) {
        return t.sign("POST", URI.create("https://us-central1-aiplatform.googleapis.com/v1/x"), Map.of(), new byte[0])
                .get("authorization");
    }

    @Test
    void aTokenIsFetchedWithAValidAssertionForTheCloudPlatformScopeAndReusedWhileValid() throws Exception {
        GoogleAccessToken t = serviceAccount();
        assertThat(bearer(t)).isEqualTo("Bearer ya29.sa-1");
        assertThat(bearer(t)).isEqualTo("Bearer ya29.sa-1");
        assertThat(tokens.issued()).isEqualTo(1);
        assertThat(tokens.lastClaims().replace("\\/", "/")).contains("\"scope\":\"" + GoogleAccessToken.SCOPE).contains("gateway@acme-prod");
    }

    @Test
    void aTokenAboutToExpireIsRefreshedBeforeUse() throws Exception {
        tokens.expiresIn(30); // inside the library's refresh margin: stale at once
        GoogleAccessToken t = serviceAccount();
        assertThat(bearer(t)).isEqualTo("Bearer ya29.sa-1");
        assertThat(bearer(t)).isEqualTo("Bearer ya29.sa-2");
        assertThat(tokens.issued()).isEqualTo(2);
    }
}
