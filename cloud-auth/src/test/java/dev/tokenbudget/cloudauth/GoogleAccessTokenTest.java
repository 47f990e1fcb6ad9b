package dev.tokenbudget.cloudauth;

import com.google.auth.oauth2.GoogleCredentials;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Vertex AI access tokens from a service-account credential whose token endpoint is a loopback
 * stand-in of Google's OAuth token endpoint (RFC 7523 JWT-bearer grant, as the auth library's
 * {@code ServiceAccountCredentials.refreshAccessToken} sends it): the assertion is checked against
 * the account's public key, the token is cached while valid and fetched anew once it is about to
 * expire.
 */
class GoogleAccessTokenTest {

    private HttpServer tokens;
    private final AtomicInteger issued = new AtomicInteger();
    private volatile int expiresIn = 3600;
    private volatile String lastScope;
    private KeyPair keys;

    @BeforeEach
    void start() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        keys = g.generateKeyPair();
        tokens = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        tokens.createContext("/token", ex -> {
            String form = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Map<String, String> f = new java.util.HashMap<>();
            for (String kv : form.split("&")) {
                int eq = kv.indexOf('=');
                f.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
            String body;
            int status;
            if ("urn:ietf:params:oauth:grant-type:jwt-bearer".equals(f.get("grant_type")) && verifies(f.get("assertion"))) {
                status = 200;
                body = "{\"access_token\":\"ya29.token-" + issued.incrementAndGet() + "\",\"expires_in\":" + expiresIn
                        + ",\"token_type\":\"Bearer\"}";
            } else {
                status = 400;
                body = "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}";
            }
            byte[] out = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        tokens.start();
    }

    /** An RS256 JWT signed by the service account's key; remembers its scope claim. */
    private boolean verifies(String jwt) {
        try {
            String[] p = jwt.split("\\.");
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initVerify(keys.getPublic());
            s.update((p[0] + "." + p[1]).getBytes(StandardCharsets.US_ASCII));
            boolean ok = s.verify(Base64.getUrlDecoder().decode(p[2]));
            lastScope = new String(Base64.getUrlDecoder().decode(p[1]), StandardCharsets.UTF_8);
            return ok;
        } catch (Exception e) {
            return false;
        }
    }

    @AfterEach
    void stop() {
        tokens.stop(0);
    }

    private GoogleAccessToken serviceAccount() throws Exception {
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(keys.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        String json = """
                {"type":"service_account","project_id":"acme-prod","private_key_id":"k1",
                 "private_key":%s,"client_email":"gateway@acme-prod.iam.gserviceaccount.com",
                 "client_id":"1","token_uri":"http://127.0.0.1:%d/token"}"""
                .formatted(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(pem),
                        tokens.getAddress().getPort());
        return GoogleAccessToken.of(GoogleCredentials.fromStream(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8))));
    }

    private static String bearer(GoogleAccessToken t) {
        return t.sign("POST", URI.create("https://us-central1-aiplatform.googleapis.com/v1/x"), Map.of(), new byte[0])
                .get("authorization");
    }

    @Test
    void aTokenIsFetchedWithAValidAssertionForTheCloudPlatformScopeAndReusedWhileValid() throws Exception {
        GoogleAccessToken t = serviceAccount();
        assertThat(bearer(t)).isEqualTo("Bearer ya29.token-1");
        assertThat(bearer(t)).isEqualTo("Bearer ya29.token-1");
        assertThat(issued.get()).isEqualTo(1);
        assertThat(lastScope.replace("\\/", "/")).contains("\"scope\":\"" + GoogleAccessToken.SCOPE).contains("gateway@acme-prod");
    }

    @Test
    void aTokenAboutToExpireIsRefreshedBeforeUse() throws Exception {
        expiresIn = 30; // inside the library's refresh margin: stale at once
        GoogleAccessToken t = serviceAccount();
        assertThat(bearer(t)).isEqualTo("Bearer ya29.token-1");
        assertThat(bearer(t)).isEqualTo("Bearer ya29.token-2");
        assertThat(issued.get()).isEqualTo(2);
    }
}
