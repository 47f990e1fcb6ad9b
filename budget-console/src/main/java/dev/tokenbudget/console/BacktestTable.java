package dev.tokenbudget.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * wins), and a last row pooling the bands' coverage over every window.
 */
final class BacktestTable {

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
        double windows = 0;
        double c80 = 0;
        double c95 = 0;
        for (Path f : files) {
            DailySeries data;
            try {
                data = BacktestCommand.read(f);
            } catch (IOException | UsageCsv.FormatException e) {
                return Failure.report(err, "backtest", "cannot read " + f + ": " + e.getMessage());
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
            out.println(root);
        } else {
            out.printf(Locale.ROOT, "%-28s %4s %7.0f %60.0f%% %4.0f%%%n", "all (pooled coverage)", "", windows,
                    100 * c80 / windows, 100 * c95 / windows);
        }
        out.flush();
        return 0;
    }
}
