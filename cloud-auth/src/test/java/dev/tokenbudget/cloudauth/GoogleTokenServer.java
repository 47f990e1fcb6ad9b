package dev.tokenbudget.cloudauth;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback stand-in of Google's OAuth token endpoint for a service account whose key is
 * generated here: it answers the RFC 7523 JWT-bearer grant the auth library sends
 * ({@code ServiceAccountCredentials.refreshAccessToken}) when the assertion verifies against the
 * account's public key, issuing {@code ya29.sa-N} tokens that expire after a given number
 * of seconds, and can tell whether a token it issued is still valid (the fake Vertex API's check).
 */
public final class GoogleTokenServer implements AutoCloseable {

    private final KeyPair keys;
    private final HttpServer http;
    private final AtomicInteger issued = new AtomicInteger();
    private final Map<String, Instant> expiries = new ConcurrentHashMap<>();
    private volatile int expiresIn;
    private volatile String lastClaims;

    /** @param seconds the lifetime of the tokens it issues (see {@link #expiresIn}) */
    public GoogleTokenServer(int seconds) {
        this.expiresIn = seconds;
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            keys = g.generateKeyPair();
            http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        http.createContext("/token", ex -> {
            Map<String, String> form = new HashMap<>();
            for (String kv : new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    form.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
            int status = 400;
            String body = "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}";
            if ("urn:ietf:params:oauth:grant-type:jwt-bearer".equals(form.get("grant_type"))
                    && verifies(form.get("assertion"))) {
                int lifetime = expiresIn;
                String token = "ya29.sa-" + issued.incrementAndGet();
                expiries.put(token, Instant.now().plusSeconds(lifetime));
                status = 200;
                body = "{\"access_token\":\"" + token + "\",\"expires_in\":" + lifetime + ",\"token_type\":\"Bearer\"}";
            }
            byte[] out = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        http.start();
    }

    private boolean verifies(String jwt) {
        try {
            String[] p = jwt.split("\\.");
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initVerify(keys.getPublic());
            s.update((p[0] + "." + p[1]).getBytes(StandardCharsets.US_ASCII));
            if (!s.verify(Base64.getUrlDecoder().decode(p[2]))) {
                return false;
            }
            lastClaims = new String(Base64.getUrlDecoder().decode(p[1]), StandardCharsets.UTF_8);
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** The lifetime, in seconds, of the tokens issued from now on. */
    public GoogleTokenServer expiresIn(int seconds) {
        expiresIn = seconds;
        return this;
    }

    /** The claims (JSON) of the last assertion that verified, or null before the first. */
    public String lastClaims() {
        return lastClaims;
    }

    /** Tokens issued so far. */
    public int issued() {
        return issued.get();
    }

    /** Null when {@code authorization} carries a token issued here that has not expired; else why not. */
    public String problem(String authorization) {
        if (authorization == null || !authorization.startsWith("Bearer ")) {
            return "no bearer token: " + authorization;
        }
        Instant expiry = expiries.get(authorization.substring(7));
        if (expiry == null) {
            return "unknown token " + authorization.substring(7);
        }
        return Instant.now().isBefore(expiry) ? null : "expired token " + authorization.substring(7);
    }

    /** Writes the service account's key file (what GOOGLE_APPLICATION_CREDENTIALS names) to {@code file}. */
    public Path writeKeyFile(Path file) {
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(keys.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        String json = """
                {"type":"service_account","project_id":"acme-prod","private_key_id":"k1",
                 "private_key":"%s","client_email":"gateway@acme-prod.iam.gserviceaccount.com",
                 "client_id":"1","token_uri":"http://127.0.0.1:%d/token"}"""
                .formatted(pem.replace("\n", "\\n"), http.getAddress().getPort());
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            return Files.writeString(file, json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
