package dev.tokenbudget.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.forecast.AlertRule;
import dev.tokenbudget.forecast.Backtest;
import dev.tokenbudget.forecast.DailySeries;
import dev.tokenbudget.forecast.Forecaster;
import dev.tokenbudget.forecast.UsageCsv;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * {@code backtest --all DIR}: one row per series of a folder at one horizon, with the model's
 * MAPE as a ratio to the better of linear and rolling-14 and to Holt-Winters (below 1: the model
 * wins), and a last row pooling the bands' coverage over every window. CSVs that are not daily
 * usage are skipped with a note on standard error.
 */
final class BacktestTable {

    /** The predictive alert is scored against a limit at the previous window's total plus this share. */
    static final double HEADROOM = 0.1;

    private BacktestTable() {
    }

    static int print(PrintWriter out, PrintWriter err, Path dir, Backtest.WindowMode mode, int day, boolean json) {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".csv")).sorted().toList();
        } catch (IOException e) {
            return Failure.report(err, "backtest", "cannot list " + dir + ": " + e.getMessage());
        }
        Backtest backtest = new Backtest(new Forecaster());
        ObjectMapper m = new ObjectMapper();
        ArrayNode rows = m.createArrayNode();
        if (!json) {
            out.printf(Locale.ROOT, "%-28s %4s %7s %7s %7s %7s %7s %6s %6s %5s %5s%n", "series", "day", "windows",
                    "model", "linear", "roll14", "holt-w", "/best", "/hw", "cov80", "cov95");
        }
        Backtest.AlertScore alerts = Backtest.AlertScore.none();
        double windows = 0;
        double c80 = 0;
        double c95 = 0;
        for (Path f : files) {
            DailySeries data;
            try {
                data = BacktestCommand.read(f);
            } catch (IOException e) {
                return Failure.report(err, "backtest", "cannot read " + f + ": " + e.getMessage());
            } catch (UsageCsv.FormatException e) {
                // a folder may hold other CSVs (hourly files beside the daily ones): said, not fatal
                err.println("backtest: skipped " + e.getMessage());
                continue;
            }
            Backtest.HorizonResult r = null;
            for (Backtest.HorizonResult x : backtest.run(data, mode)) {
                if (x.day() <= day) {
                    r = x;
                }
            }
            if (r == null) {
                continue;
            }
            alerts = alerts.plus(backtest.alerts(data, mode, r.day(), HEADROOM));
            String name = f.getFileName().toString().replaceFirst("\\.csv$", "");
            double best = r.mapeModel() / r.mapeBestBaseline();
            double hw = r.mapeModel() / r.mapeHoltWinters();
            windows += r.windows();
            c80 += r.coverage80() * r.windows();
            c95 += r.coverage95() * r.windows();
            if (json) {
                ObjectNode o = rows.addObject().put("series", name);
                o.setAll((ObjectNode) m.valueToTree(r));
                o.put("ratio_best_baseline", BacktestCommand.round(best)).put("ratio_holt_winters",
                        BacktestCommand.round(hw));
            } else {
                out.printf(Locale.ROOT, "%-28s %4d %7d %7.2f %7.2f %7.2f %7.2f %6.2f %6.2f %4.0f%% %4.0f%%%n", name,
                        r.day(), r.windows(), r.mapeModel(), r.mapeLinear(), r.mapeRolling14(), r.mapeHoltWinters(),
                        best, hw, r.coverage80() * 100, r.coverage95() * 100);
            }
        }
        if (windows == 0) {
            return Failure.report(err, "backtest", dir + ": no series with a window to forecast");
        }
        if (json) {
            ObjectNode root = m.createObjectNode();
            root.set("series", rows);
            root.put("coverage80", BacktestCommand.round(c80 / windows)).put("coverage95",
                    BacktestCommand.round(c95 / windows));
            ObjectNode a = root.putObject("alerts").put("windows", alerts.windows()).put("exceeded", alerts.exceeded())
                    .put("rule", AlertRule.DEFAULT.name().toLowerCase(Locale.ROOT));
            ArrayNode rules = a.putArray("rules");
            for (AlertRule rule : AlertRule.values()) {
                rules.addObject().put("rule", rule.name().toLowerCase(Locale.ROOT))
                        .put("alerts", alerts.alerts().get(rule.ordinal()))
                        .put("hits", alerts.hits().get(rule.ordinal()))
                        .put("precision", BacktestCommand.round(alerts.precision(rule)))
                        .put("recall", BacktestCommand.round(alerts.recall(rule)));
            }
            out.println(root);
        } else {
            out.printf(Locale.ROOT, "%-28s %4s %7.0f %60.0f%% %4.0f%%%n", "all (pooled coverage)", "", windows,
                    100 * c80 / windows, 100 * c95 / windows);
            out.printf(Locale.ROOT, "predictive alert (limit: previous window +10%%): %d of %d windows went over%n",
                    alerts.exceeded(), alerts.windows());
            for (AlertRule rule : AlertRule.values()) {
                out.printf(Locale.ROOT, "  %-45s precision %3.0f%% recall %3.0f%%%s%n", rule.description(),
                        100 * alerts.precision(rule), 100 * alerts.recall(rule),
                        rule == AlertRule.DEFAULT ? "  (the alert's rule)" : "");
            }
        }
        out.flush();
        return 0;
    }
}
