package dev.tokenbudget.scg;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@link GoogleTokenRouteTestBase} with the key file named in {@code tokenbudget.vertex-credentials-file}. */
class VertexCredentialsFileTest extends GoogleTokenRouteTestBase {

    @DynamicPropertySource
    static void credentialsFile(DynamicPropertyRegistry r) {
        try {
            Path file = GOOGLE.writeKeyFile(Files.createTempDirectory("tb-vertex").resolve("service-account.json"));
            r.add("tokenbudget.vertex-credentials-file", file::toString);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
