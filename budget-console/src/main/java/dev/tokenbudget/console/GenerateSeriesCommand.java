package dev.tokenbudget.console;

import dev.tokenbudget.forecast.RegimeZoo;
import dev.tokenbudget.forecast.SyntheticSeries;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code tokenbudget generate-series}: the generated daily series of examples/data, or one regime
 * of the forecaster's regime zoo, or the whole zoo into a folder; reproducibly.
 */
@Command(name = "generate-series", mixinStandardHelpOptions = true,
        description = "Print a generated daily usage CSV for backtests (--kind: the series of examples/data; "
                + "--regime: one kind of workload of the regime zoo), or write the whole zoo into a folder "
                + "(--zoo DIR). The same arguments always give the same files (docs/forecast.md).")
final class GenerateSeriesCommand implements Callable<Integer> {

    private static final String NAME = "generate-series";

    @Option(names = "--kind", paramLabel = "KIND", description = "weekday-seasonal or level-shifts.")
    private String kind;

    @Option(names = "--regime", paramLabel = "REGIME", description = "A regime of the zoo: steady-weekly, linear-growth, "
            + "exponential-growth, shifts-up, shifts-down, launch-decay, successor, bursts, no-weekly, month-start, "
            + "missing-days, ramp-up.")
    private String regime;

    @Option(names = "--zoo", paramLabel = "DIR", description = "Write every regime for seeds 1..--seeds into DIR.")
    private Path zoo;

    @Option(names = "--floor", description = "With --zoo: also print each series' noise floor, the day-5/10/15/20 "
            + "MAPE of the month's total of an oracle that knows the generator's mean path (docs/forecast.md).")
    private boolean floor;

    @Option(names = "--first-seed", defaultValue = "1", description = "First seed with --zoo (default 1).")
    private long firstSeed;

    @Option(names = "--seeds", defaultValue = "3",
            description = "Seeds per regime with --zoo (default 3): --first-seed and on.")
    private int seeds;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed (default 42).")
    private long seed;

    @Option(names = "--days", description = "Number of days (default 1096 for --kind, 548 for the zoo).")
    private Integer days;

    @Option(names = "--start", defaultValue = "2024-01-01", description = "First day (default 2024-01-01).")
    private LocalDate start;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        int chosen = (kind != null ? 1 : 0) + (regime != null ? 1 : 0) + (zoo != null ? 1 : 0);
        int n = days != null ? days : kind != null ? 1096 : 548;
        if (chosen != 1 || n < 1 || n > 36_600 || seeds < 1 || seeds > 100) {
            return Failure.usage(spec.commandLine().getErr(), NAME, "give one of --kind, --regime or --zoo; "
                    + "--days 1 to 36600, --seeds 1 to 100");
        }
        if (zoo != null) {
            return writeZoo(n);
        }
        String csv;
        if (kind != null) {
            SyntheticSeries.Kind k = switch (kind) {
                case "weekday-seasonal" -> SyntheticSeries.Kind.WEEKDAY_SEASONAL;
                case "level-shifts" -> SyntheticSeries.Kind.LEVEL_SHIFTS;
                default -> null;
            };
            if (k == null) {
                return Failure.usage(spec.commandLine().getErr(), NAME, "--kind must be weekday-seasonal or "
                        + "level-shifts, was '" + kind + "'");
            }
            csv = SyntheticSeries.csv(SyntheticSeries.generate(k, seed, start, n));
        } else {
            RegimeZoo.Regime r;
            try {
                r = RegimeZoo.Regime.of(regime);
            } catch (IllegalArgumentException e) {
                return Failure.usage(spec.commandLine().getErr(), NAME, "--regime must be one of "
                        + Arrays.stream(RegimeZoo.Regime.values()).map(RegimeZoo.Regime::slug).toList()
                        + ", was '" + regime + "'");
            }
            csv = RegimeZoo.csv(RegimeZoo.generate(r, seed, start, n).series());
        }
        spec.commandLine().getOut().print(csv);
        spec.commandLine().getOut().flush();
        return 0;
    }

    private int writeZoo(int n) {
        try {
            Files.createDirectories(zoo);
            if (floor) {
                spec.commandLine().getOut().printf(java.util.Locale.ROOT, "%-28s %7s %7s %7s %7s%n",
                        "noise floor (MAPE %)",
                        "day 5", "day 10", "day 15", "day 20");
            }
            for (RegimeZoo.Regime r : RegimeZoo.Regime.values()) {
                for (long s = firstSeed; s < firstSeed + seeds; s++) {
                    RegimeZoo.Generated g = RegimeZoo.generate(r, s, start, n);
                    Files.writeString(zoo.resolve(r.slug() + "-" + s + ".csv"), RegimeZoo.csv(g.series()),
                            StandardCharsets.UTF_8);
                    if (floor) {
                        spec.commandLine().getOut().printf(java.util.Locale.ROOT, "%-28s %7.2f %7.2f %7.2f %7.2f%n",
                                r.slug() + "-" + s, g.noiseFloor(5), g.noiseFloor(10), g.noiseFloor(15),
                                g.noiseFloor(20));
                    }
                }
            }
        } catch (IOException e) {
            return Failure.report(spec.commandLine().getErr(), NAME, "cannot write " + zoo + ": " + e.getMessage());
        }
        spec.commandLine().getOut().printf("%d series written to %s%n", RegimeZoo.Regime.values().length * seeds, zoo);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
