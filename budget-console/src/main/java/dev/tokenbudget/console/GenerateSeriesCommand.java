package dev.tokenbudget.console;

import dev.tokenbudget.forecast.SyntheticSeries;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.time.LocalDate;
import java.util.concurrent.Callable;

/** {@code tokenbudget generate-series}: the generated daily series of examples/data, reproducibly. */
@Command(name = "generate-series", mixinStandardHelpOptions = true,
        description = "Print a generated daily usage CSV (date,input_tokens,output_tokens) for backtests; the "
                + "same kind, seed, start and days always give the same file (examples/data/README.md).")
final class GenerateSeriesCommand implements Callable<Integer> {

    @Option(names = "--kind", required = true, paramLabel = "KIND",
            description = "weekday-seasonal or level-shifts.")
    private String kind;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed (default 42).")
    private long seed;

    @Option(names = "--days", defaultValue = "1096", description = "Number of days (default 1096).")
    private int days;

    @Option(names = "--start", defaultValue = "2024-01-01", description = "First day (default 2024-01-01).")
    private LocalDate start;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        SyntheticSeries.Kind k = switch (kind) {
            case "weekday-seasonal" -> SyntheticSeries.Kind.WEEKDAY_SEASONAL;
            case "level-shifts" -> SyntheticSeries.Kind.LEVEL_SHIFTS;
            default -> null;
        };
        if (k == null || days < 1 || days > 36_600) {
            return Failure.usage(spec.commandLine().getErr(), "generate-series", "--kind must be weekday-seasonal or "
                    + "level-shifts and --days 1 to 36600");
        }
        spec.commandLine().getOut().print(SyntheticSeries.csv(SyntheticSeries.generate(k, seed, start, days)));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
