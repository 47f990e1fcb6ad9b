package dev.tokenbudget.console;

import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code tokenbudget validate CONFIG}: exit 0 with a summary, or 1 with every path-named error. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Validate a budget config; print a one-line summary, or every error with its path.")
final class ValidateCommand implements Callable<Integer> {

    @Parameters(paramLabel = "CONFIG", description = "The engine's YAML config file.")
    private Path config;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            EngineConfig c = ConfigLoader.load(config);
            long roots = c.budgets().budgets().stream().filter(b -> b.parent().isEmpty()).count();
            long windows = c.budgets().budgets().stream().mapToLong(b -> b.windows().size()).sum();
            out.printf("%s: OK: %d budgets (%d %s), %d windows, %d keys, store %s%n", config,
                    c.budgets().budgets().size(), roots, roots == 1 ? "tree" : "trees", windows, c.keys().size(),
                    c.store().type());
            out.flush();
            return 0;
        } catch (ConfigException e) {
            int n = e.errors().size();
            return Failure.listing(err, config + ": " + n + (n == 1 ? " error" : " errors"), e.errors());
        }
    }

}
