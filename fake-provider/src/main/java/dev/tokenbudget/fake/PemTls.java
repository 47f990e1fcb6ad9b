package dev.tokenbudget.fake;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/** A server TLS context from a PEM certificate and its unencrypted PKCS#8 key (EC or RSA), as openssl writes them. */
public final class PemTls {

    private PemTls() {
    }

    /**
     * @throws IllegalArgumentException naming the file when the certificate or key cannot be read
     */
    public static SSLContext serverContext(Path certPem, Path keyPem) {
        try {
            Certificate cert;
            try (InputStream in = Files.newInputStream(certPem)) {
                cert = CertificateFactory.getInstance("X.509").generateCertificate(in);
            }
            String pem = Files.readString(keyPem);
            if (!pem.contains("-----BEGIN PRIVATE KEY-----")) {
                throw new IllegalArgumentException(keyPem + " is not an unencrypted PKCS#8 key (BEGIN PRIVATE KEY)");
            }
            byte[] der = Base64.getDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""));
            PrivateKey key = KeyFactory.getInstance(cert.getPublicKey().getAlgorithm())
                    .generatePrivate(new PKCS8EncodedKeySpec(der));
            char[] pw = "fake-provider".toCharArray();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("server", key, pw, new Certificate[] {cert});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the TLS certificate " + certPem + " and key " + keyPem + ": "
                    + e.getMessage(), e);
        }
    }
}
