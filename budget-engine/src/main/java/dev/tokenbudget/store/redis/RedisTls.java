package dev.tokenbudget.store.redis;

import dev.tokenbudget.config.TlsSettings;
import io.lettuce.core.SslOptions;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;

/**
 * The TLS side of a {@code rediss://} connection: {@code store.redis.tls} as Lettuce options, its
 * files checked when the store opens (so a wrong path stops the start with its name, not every
 * later connection attempt), and handshake failures told apart from other connection failures.
 */
final class RedisTls {

    private RedisTls() {
    }

    /**
     * Lettuce options for {@code tls}: the handshake bounded by {@code handshakeTimeout} (Lettuce's
     * default is 10 s), trust from {@code ca_file} or else the JVM's, the client certificate if any.
     *
     * @throws IllegalArgumentException naming the field when a file is missing or not what it must be
     */
    static SslOptions options(TlsSettings tls, Duration handshakeTimeout) {
        SslOptions.Builder b = SslOptions.builder().jdkSslProvider().handshakeTimeout(handshakeTimeout);
        if (tls.caFile() != null) {
            requireCertificates("store.redis.tls.ca_file", tls.caFile());
            b.trustManager(tls.caFile().toFile());
        }
        if (tls.certFile() != null) {
            requireCertificates("store.redis.tls.cert_file", tls.certFile());
            requirePkcs8Key(tls.keyFile());
            b.keyManager(tls.certFile().toFile(), tls.keyFile().toFile(), null);
        }
        return b.build();
    }

    private static void requireCertificates(String field, Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new IllegalArgumentException(field + ": no certificate in " + file + " (PEM expected)");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(field + ": cannot read " + file + ": " + e, e);
        } catch (CertificateException e) {
            throw new IllegalArgumentException(field + ": " + file + " holds no readable PEM certificate: "
                    + e.getMessage(), e);
        }
    }

    private static void requirePkcs8Key(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("store.redis.tls.key_file: cannot read " + file + ": " + e, e);
        }
        if (!text.contains("-----BEGIN PRIVATE KEY-----")) {
            throw new IllegalArgumentException("store.redis.tls.key_file: " + file + " must be an unencrypted PKCS#8 "
                    + "PEM key (-----BEGIN PRIVATE KEY-----); convert one with: openssl pkcs8 -topk8 -nocrypt "
                    + "-in key.pem -out key-pkcs8.pem");
        }
    }

    private static String hint(Throwable tls, String why) {
        for (Throwable c = tls; c != null && c.getCause() != c; c = c.getCause()) {
            if (c instanceof CertificateException) {
                return " (the server's certificate must chain to store.redis.tls.ca_file, or to the JVM trust store "
                        + "when that is not set, and name the host of the URI)";
            }
        }
        if (why.contains("certificate_required") || why.contains("bad_certificate")) {
            return " (Redis wants a client certificate it trusts: store.redis.tls.cert_file and key_file)";
        }
        return "";
    }

    /**
     * Why a connection attempt failed, in one line: Lettuce's message ("Unable to connect to ...")
     * and, when the chain holds one, the TLS handshake's reason (an untrusted certificate, a name
     * mismatch, a refused client certificate), which Lettuce's own message leaves out.
     */
    static String reason(Throwable e) {
        String message = String.valueOf(e.getMessage());
        Throwable tls = null;
        Throwable root = e;
        for (Throwable c = e; c != null && c.getCause() != c; c = c.getCause()) {
            if (tls == null && (c instanceof SSLException || c instanceof GeneralSecurityException)) {
                tls = c;
            }
            root = c;
        }
        if (tls != null) {
            String why = root.getMessage() != null ? root.getMessage() : tls.getMessage();
            return message + ": TLS handshake failed: " + why + hint(tls, why);
        }
        if (root != e && root.getMessage() != null && !message.contains(root.getMessage())) {
            return message + ": " + root.getMessage();
        }
        return message;
    }
}
