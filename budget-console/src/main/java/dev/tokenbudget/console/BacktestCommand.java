package dev.tokenbudget.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.forecast.Backtest;
import dev.tokenbudget.forecast.DailySeries;
import dev.tokenbudget.forecast.Forecaster;
import dev.tokenbudget.forecast.UsageCsv;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code tokenbudget backtest --csv FILE | --all DIR [--window month|N] [--json]}: the forecaster
 * against linear month-to-date extrapolation, a 14-day rolling average and Holt-Winters
 * (docs/forecast.md); with {@code --all}, one row per series of a folder.
 */
@Command(name = "backtest", mixinStandardHelpOptions = true,
        description = "Backtest the burn-down forecast on a daily usage CSV (header: date and total_tokens, or "
                + "date, input_tokens and output_tokens): MAPE of the model, linear month-to-date extrapolation, "
                + "a 14-day rolling average and Holt-Winters at days 5, 10, 15, 20 and 25 of each window, and the "
                + "coverage of the model's 80% and 95% bands. --all DIR: one row per CSV in DIR at one day.")
final class BacktestCommand implements Callable<Integer> {

    @Option(names = "--csv", paramLabel = "FILE", description = "Daily usage CSV.")
    private Path csv;

    @Option(names = "--all", paramLabel = "DIR", description = "Every *.csv in DIR, one row each.")
    private Path all;

    @Option(names = "--day", defaultValue = "10", paramLabel = "D",
            description = "With --all: the horizon shown (default 10; the latest one before it when a window is shorter).")
    private int day;

    @Option(names = "--window", paramLabel = "month|N", defaultValue = "month",
            description = "Calendar months fully in the data (default), or every N-day window.")
    private String window;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    private boolean json;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if ((csv == null) == (all == null)) {
            return Failure.usage(err, "backtest", "give either --csv FILE or --all DIR");
        }
        Backtest.WindowMode mode = mode();
        if (all != null) {
            return BacktestTable.print(out, err, all, mode, day, json);
        }
        DailySeries data;
        try {
            data = read(csv);
        } catch (IOException e) {
            return Failure.report(err, "backtest", "cannot read " + csv + ": " + e.getMessage());
        } catch (UsageCsv.FormatException e) {
            return Failure.report(err, "backtest", e.getMessage());
        }
        List<Backtest.HorizonResult> results = new Backtest(new Forecaster()).run(data, mode);
        if (results.isEmpty()) {
            return Failure.report(err, "backtest", csv + " holds " + data.size() + " days (" + data.start() + " to "
                    + data.end().minusDays(1) + "): no " + (mode.isMonth() ? "complete calendar month"
                    : mode.days() + "-day window") + " with at least 6 days to forecast");
        }
        if (json) {
            out.println(json(results));
        } else {
            table(out, data, mode, results);
        }
        out.flush();
        return 0;
    }

    static DailySeries read(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return UsageCsv.read(r, file.toString());
        }
    }

    private Backtest.WindowMode mode() {
        if (window.equalsIgnoreCase("month")) {
            return Backtest.WindowMode.month();
        }
        try {
            int n = Integer.parseInt(window.trim());
            if (n >= 2 && n <= 366) {
                return Backtest.WindowMode.days(n);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CommandLine.ParameterException(spec.commandLine(),
                "--window must be 'month' or a number of days from 2 to 366, was '" + window + "'");
    }

    static String json(List<Backtest.HorizonResult> results) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        ArrayNode hs = root.putArray("horizons");
        for (Backtest.HorizonResult r : results) {
            ObjectNode h = hs.addObject();
            h.put("day", r.day());
            h.put("windows", r.windows());
            ObjectNode mape = h.putObject("mape");
            mape.put("model", round(r.mapeModel()));
            mape.put("linear", round(r.mapeLinear()));
            mape.put("rolling14", round(r.mapeRolling14()));
            mape.put("holt_winters", round(r.mapeHoltWinters()));
            h.put("coverage80", round(r.coverage80()));
            h.put("coverage95", round(r.coverage95()));
        }
        return root.toString();
    }

    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static void table(PrintWriter out, DailySeries data, Backtest.WindowMode mode,
                              List<Backtest.HorizonResult> results) {
        out.printf(Locale.ROOT, "backtest: %d days (%s to %s), %s; MAPE in percent, coverage of the model's 80%% and "
                        + "95%% bands%n", data.size(), data.start(), data.end().minusDays(1),
                mode.isMonth() ? "calendar months" : mode.days() + "-day windows starting every day");
        out.printf(Locale.ROOT, "%5s %8s %8s %8s %10s %8s %6s %6s%n", "day", "windows", "model", "linear", "rolling14",
                "holt-w", "cov80", "cov95");
        for (Backtest.HorizonResult r : results) {
            String best = r.mapeModel() < Math.min(r.mapeBestBaseline(), r.mapeHoltWinters()) ? "  model best" : "";
            out.printf(Locale.ROOT, "%5d %8d %8.2f %8.2f %10.2f %8.2f %5.0f%% %5.0f%%%s%n", r.day(), r.windows(),
                    r.mapeModel(), r.mapeLinear(), r.mapeRolling14(), r.mapeHoltWinters(), r.coverage80() * 100,
                    r.coverage95() * 100, best);
        }
    }
}
