package dev.tokenbudget.console;

import dev.tokenbudget.forecast.DailySeries;
import dev.tokenbudget.forecast.Forecaster;
import dev.tokenbudget.forecast.RegimeZoo;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Locale;

/**
 * What one forecast costs: one budget, one dimension, a calendar month forecast on day 10 from 90
 * days of history, as the alert evaluator makes it for each limited dimension of each budget
 * window. Repeatable without JMH: the same zoo series every run, a warm-up, then the median and
 * the 90th percentile of timed batches. Run on an idle machine for a figure (docs/forecast.md):
 * {@code java -cp budget-console/target/tokenbudget-cli.jar dev.tokenbudget.console.ForecastCost}.
 */
public final class ForecastCost {

    private ForecastCost() {
    }

    public static void main(String[] args) {
        int batches = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        Forecaster f = new Forecaster();
        LocalDate start = LocalDate.of(2024, 1, 1);
        RegimeZoo.Regime[] regimes = RegimeZoo.Regime.values();
        DailySeries[] histories = new DailySeries[regimes.length];
        for (int i = 0; i < regimes.length; i++) {
            DailySeries s = RegimeZoo.generate(regimes[i], 1, start, 200).series();
            histories[i] = s.slice(LocalDate.of(2024, 5, 1).minusDays(80), LocalDate.of(2024, 5, 11));
        }
        var cut = LocalDate.of(2024, 5, 11).atStartOfDay(ZoneOffset.UTC).toInstant();
        var from = LocalDate.of(2024, 5, 1).atStartOfDay(ZoneOffset.UTC).toInstant();
        var to = LocalDate.of(2024, 6, 1).atStartOfDay(ZoneOffset.UTC).toInstant();
        double sink = 0;
        for (int w = 0; w < 20; w++) {
            for (DailySeries h : histories) {
                sink += f.span(h, 0, cut, ZoneOffset.UTC, from, to, 1, -1).expected();
            }
        }
        double[] perForecastMs = new double[batches];
        for (int b = 0; b < batches; b++) {
            long t0 = System.nanoTime();
            for (DailySeries h : histories) {
                sink += f.span(h, 0, cut, ZoneOffset.UTC, from, to, 1, -1).expected();
            }
            perForecastMs[b] = (System.nanoTime() - t0) / 1e6 / histories.length;
        }
        Arrays.sort(perForecastMs);
        System.out.printf(Locale.ROOT, "forecast cost (one budget, one dimension, month at day 10, 90 days of history, "
                        + "%d regimes x %d batches): median %.2f ms, p90 %.2f ms (checksum %.0f)%n", histories.length,
                batches, perForecastMs[batches / 2], perForecastMs[(int) (batches * 0.9)], sink % 1000);
    }
}
