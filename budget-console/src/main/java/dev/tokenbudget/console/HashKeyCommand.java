package dev.tokenbudget.console;

import dev.tokenbudget.identity.KeyHash;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/** {@code tokenbudget hash-key [KEY]}: the SHA-256 to put in a config's keys[].sha256. */
@Command(name = "hash-key", mixinStandardHelpOptions = true,
        description = "Print the SHA-256 of a virtual key for keys[].sha256 (reads standard input without KEY, "
                + "which keeps the key out of shell history).")
final class HashKeyCommand implements Callable<Integer> {

    @Parameters(paramLabel = "KEY", arity = "0..1", description = "The clear-text virtual key.")
    private String key;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        String k = key;
        if (k == null) {
            k = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        }
        if (k == null || k.isBlank()) {
            return Failure.usage(spec.commandLine().getErr(), "hash-key", "no key given (pass it as an argument or on "
                    + "standard input)");
        }
        spec.commandLine().getOut().println(KeyHash.of(k.strip()));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
