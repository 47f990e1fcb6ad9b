package dev.tokenbudget.scg;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.file.Path;

/**
 * {@link GoogleTokenRouteTestBase}'s checks with {@code tokenbudget.vertex-application-default-credentials}:
 * Google's library finds the service account through GOOGLE_APPLICATION_CREDENTIALS, which the build
 * sets for the test JVM (surefire's environmentVariables; a JVM cannot set its own environment) to
 * a file this test writes before the gateway starts.
 */
class VertexApplicationDefaultCredentialsTest extends GoogleTokenRouteTestBase {

    @DynamicPropertySource
    static void applicationDefaultCredentials(DynamicPropertyRegistry r) {
        String adc = System.getenv("GOOGLE_APPLICATION_CREDENTIALS");
        if (adc == null || adc.isBlank()) {
            throw new IllegalStateException("GOOGLE_APPLICATION_CREDENTIALS is not set: run this test through Maven, "
                    + "whose surefire configuration sets it for the test JVM");
        }
        GOOGLE.writeKeyFile(Path.of(adc));
        r.add("tokenbudget.vertex-application-default-credentials", () -> "true");
    }
}
