package dev.tokenbudget.store.redis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Throwaway certificates made with {@code openssl} for one test run (EC P-256, valid two days):
 * a CA the store is told to trust, a second CA it is not, and certificates they sign. Fails (CI) or
 * skips the test when {@code openssl} is not on the PATH, as {@link TestRedis} does for Redis.
 */
public final class TestCertificates {

    /** A certificate and its unencrypted PKCS#8 key. */
    public record Pair(Path cert, Path key) {
    }

    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** A generator writing into {@code dir}; checks that openssl is there. */
    public static TestCertificates in(Path dir) {
        TestRedis.requireTool("openssl", "the TLS tests make their certificates with openssl, which is not on the "
                + "PATH (apt-get install openssl)");
        return new TestCertificates(dir);
    }

    /** A self-signed CA named {@code name}. */
    public Pair authority(String name) throws IOException {
        Pair ca = new Pair(dir.resolve(name + ".pem"), dir.resolve(name + ".key"));
        openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", ca.key().toString(), "-out", ca.cert().toString(), "-days", "2",
                "-subj", "/CN=tokenbudget test " + name,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return ca;
    }

    /** A server certificate for {@code subjectAltName} (such as {@code IP:127.0.0.1}) signed by {@code ca}. */
    public Pair server(String name, Pair ca, String subjectAltName) throws IOException {
        return leaf(name, ca, "subjectAltName=" + subjectAltName + "\nextendedKeyUsage=serverAuth\n");
    }

    /** A client certificate (for {@code tls-auth-clients yes}) signed by {@code ca}. */
    Pair client(String name, Pair ca) throws IOException {
        return leaf(name, ca, "extendedKeyUsage=clientAuth\n");
    }

    private Pair leaf(String name, Pair ca, String extensions) throws IOException {
        Pair leaf = new Pair(dir.resolve(name + ".pem"), dir.resolve(name + ".key"));
        Path csr = dir.resolve(name + ".csr");
        Path ext = dir.resolve(name + ".ext");
        Files.writeString(ext, extensions + "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n");
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", leaf.key().toString(), "-out", csr.toString(), "-subj", "/CN=" + name);
        openssl("x509", "-req", "-in", csr.toString(), "-CA", ca.cert().toString(), "-CAkey", ca.key().toString(),
                "-set_serial", Long.toString(ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE)),
                "-days", "2", "-extfile", ext.toString(), "-out", leaf.cert().toString());
        return leaf;
    }

    private void openssl(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Path log = dir.resolve("openssl.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("openssl did not finish in 60 s: " + String.join(" ", cmd));
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) {
            throw new IOException("openssl failed (" + p.exitValue() + "): " + String.join(" ", cmd) + "\n"
                    + Files.readString(log));
        }
    }
}
