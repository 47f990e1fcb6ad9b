package dev.tokenbudget.console;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/tokenbudget}: the operator's command line. Each subcommand is its own small class. */
@Command(name = "tokenbudget", mixinStandardHelpOptions = true, versionProvider = TokenBudgetCli.Version.class,
        description = "Token budgets for LLM traffic: validate configs, inspect usage, plan budgets.",
        subcommands = {ValidateCommand.class, HashKeyCommand.class, UsageCommand.class, BacktestCommand.class,
                SimulateCommand.class, GenerateSeriesCommand.class, StatusCommand.class, LedgerCommand.class,
                CommandLine.HelpCommand.class})
public final class TokenBudgetCli implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (for tests: no System.exit). */
    public static int run(String... args) {
        return new CommandLine(new TokenBudgetCli()).execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The version from the jar's manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = TokenBudgetCli.class.getPackage().getImplementationVersion();
            return new String[] {"tokenbudget " + (v == null ? "dev" : v)};
        }
    }
}
