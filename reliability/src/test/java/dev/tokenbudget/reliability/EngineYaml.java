package dev.tokenbudget.reliability;

import dev.tokenbudget.identity.KeyHash;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Engine configs of the reliability tests, written to a temporary file the gateway loads. */
final class EngineYaml {

    private EngineYaml() {
    }

    /** {@code - {name: NAME, sha256: <hash of SECRET>, budget: BUDGET}} plus {@code extra} fields. */
    static String key(String name, String secret, String budget, String extra) {
        return "  - {name: " + name + ", sha256: " + KeyHash.of(secret) + ", budget: " + budget
                + (extra.isEmpty() ? "" : ", " + extra) + "}\n";
    }

    /** Writes {@code yaml} to a temporary file and returns its {@code file:} URL for {@code tokenbudget.config}. */
    static String file(String yaml) {
        try {
            Path f = Files.createTempFile("tokenbudget-reliability-", ".yaml");
            f.toFile().deleteOnExit();
            Files.writeString(f, yaml);
            return "file:" + f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
