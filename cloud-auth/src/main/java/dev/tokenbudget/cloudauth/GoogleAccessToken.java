package dev.tokenbudget.cloudauth;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import dev.tokenbudget.gateway.UpstreamSigner;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Authorises Vertex AI requests with an OAuth access token from Google's auth library:
 * {@code GoogleCredentials} (by default the Application Default Credentials: the
 * {@code GOOGLE_APPLICATION_CREDENTIALS} file — a service account or an external account —, gcloud's
 * user credentials, or the metadata server), scoped to {@code cloud-platform}. The library caches
 * the token and refreshes it before it expires ({@code refreshIfExpired}: within its refresh margin
 * of the expiry); requests then carry {@code Authorization: Bearer <token>}. Thread-safe (the
 * library serialises refreshes).
 */
public final class GoogleAccessToken implements UpstreamSigner {

    /** The scope Vertex AI accepts. */
    public static final String SCOPE = "https://www.googleapis.com/auth/cloud-platform";

    private final GoogleCredentials credentials;

    private GoogleAccessToken(GoogleCredentials credentials) {
        GoogleCredentials c = Objects.requireNonNull(credentials, "credentials");
        this.credentials = c.createScopedRequired() ? c.createScoped(List.of(SCOPE)) : c;
    }

    /** The Application Default Credentials. */
    public static GoogleAccessToken applicationDefault() {
        try {
            return new GoogleAccessToken(GoogleCredentials.getApplicationDefault());
        } catch (IOException e) {
            throw new UncheckedIOException("no Google application default credentials: " + e.getMessage(), e);
        }
    }

    /**
     * The credentials of a file of the kind {@code GOOGLE_APPLICATION_CREDENTIALS} names (a
     * service-account key or an external-account configuration), read now: for hosts that name
     * the file in their own configuration, since the library reads Application Default Credentials
     * only from the environment variable, gcloud's directory or the metadata server.
     *
     * @throws IllegalArgumentException when the file cannot be read or is not a credentials file (says which)
     */
    public static GoogleAccessToken fromFile(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return new GoogleAccessToken(GoogleCredentials.fromStream(in));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read Google credentials from " + file + ": " + e.getMessage(), e);
        }
    }

    /** Given credentials (a service-account or external-account file read with {@code GoogleCredentials.fromStream}). */
    public static GoogleAccessToken of(GoogleCredentials credentials) {
        return new GoogleAccessToken(credentials);
    }

    @Override
    public Map<String, String> sign(String method, URI uri, Map<String, String> headers, byte[] body) {
        try {
            credentials.refreshIfExpired();
        } catch (IOException e) {
            throw new UncheckedIOException("could not refresh the Google access token: " + e.getMessage(), e);
        }
        AccessToken token = credentials.getAccessToken();
        if (token == null) {
            throw new IllegalStateException("the Google credentials gave no access token");
        }
        return Map.of("authorization", "Bearer " + token.getTokenValue());
    }

    @Override
    public String toString() {
        return "GoogleAccessToken[" + credentials.getClass().getSimpleName() + "]";
    }
}
