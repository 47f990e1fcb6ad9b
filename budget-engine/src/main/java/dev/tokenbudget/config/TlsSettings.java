package dev.tokenbudget.config;

import java.nio.file.Path;

/**
 * Certificates for a {@code rediss://} connection ({@code store.redis.tls}).
 *
 * @param caFile   PEM file of the CA certificate(s) the server's certificate must chain to; null: the
 *                 JVM's trust store ({@code javax.net.ssl.trustStore}, else the JDK's {@code cacerts})
 * @param certFile PEM client certificate chain, for a Redis with {@code tls-auth-clients yes}; null for none
 * @param keyFile  the client certificate's private key, unencrypted PKCS#8 PEM; given with {@code certFile}
 */
public record TlsSettings(Path caFile, Path certFile, Path keyFile) {

    /** The JVM trust store, no client certificate. */
    public static final TlsSettings DEFAULT = new TlsSettings(null, null, null);

    public TlsSettings {
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("store.redis.tls: cert_file and key_file go together");
        }
    }

    /** Whether anything differs from the JVM's defaults. */
    public boolean isDefault() {
        return caFile == null && certFile == null;
    }
}
