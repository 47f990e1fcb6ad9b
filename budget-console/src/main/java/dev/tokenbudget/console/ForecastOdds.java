package dev.tokenbudget.console;

import dev.tokenbudget.forecast.Backtest;
import dev.tokenbudget.forecast.Forecaster;
import dev.tokenbudget.forecast.RegimeZoo;

import java.io.PrintStream;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * How often a series of the regime zoo comes out worse than the best simple baseline, on many seeds. For every
 * regime it backtests the model (calendar months at day 10, as {@code backtest --all} does) and an oracle that knows
 * the generator's mean path, every future event included, and misses only the daily noise
 * ({@link RegimeZoo.Generated#oracleMape(int)}), and where the regime is a local level (a steady one, a wandering one)
 * the best forecaster that cannot see the future ({@link RegimeZoo.Generated#idealMape(int)}). Three seeds of a regime say little about how often one of its series
 * loses; a hundred do, and the oracle shows how much of that is luck. A second table splits the months of the regimes
 * with events by where the nearest event falls, to show where the model loses (docs/forecast.md, "The criterion on
 * 100 seeds"):
 * {@code java -cp budget-console/target/tokenbudget-cli.jar dev.tokenbudget.console.ForecastOdds [seeds] [first seed]
 * [regime,...]}.
 */
public final class ForecastOdds {

    private static final int DAY = 10;
    private static final int DAYS = 548;
    private static final LocalDate START = LocalDate.of(2024, 1, 1);
    private static final String[] PLACES = {"an event after day 10", "an event on days 1 to 10",
        "last event 1-20 days before", "last event 21-60 days before", "none within 60 days"};

    private ForecastOdds() {
    }

    /**
     * One series: the model's, the oracle's, the ideal filter's (NaN where the regime has none) and the best baseline's
     * day-10 MAPE, its months and those inside the 80 %
     * band; per place of the nearest event ({@link #PLACES}), summed absolute errors of the model, linear and
     * rolling-14, and the months.
     */
    private record Row(double model, double oracle, double ideal, double best, int windows, int covered,
                       double[][] byPlace) {
    }

    public static void main(String[] args) {
        int seeds = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        long first = args.length > 1 ? Long.parseLong(args[1]) : 1;
        run(System.out, seeds, first, args.length > 2 ? List.of(args[2].split(",")) : List.of());
    }

    /** Backtests {@code seeds} series of each regime in {@code only} (every regime when empty) and prints the tables. */
    static void run(PrintStream out, int seeds, long first, List<String> only) {
        Set<RegimeZoo.Regime> regimes = only.isEmpty() ? EnumSet.allOf(RegimeZoo.Regime.class)
                : only.stream().map(RegimeZoo.Regime::of)
                        .collect(Collectors.toCollection(() -> EnumSet.noneOf(RegimeZoo.Regime.class)));
        out.printf(Locale.ROOT, "calendar months at day %d, seeds %d to %d, %d days each; a series loses when its"
                + " MAPE is above the better of linear and rolling-14, wins big when at most 0.8 of it%n", DAY, first,
                first + seeds - 1, DAYS);
        out.printf(Locale.ROOT, "%-20s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s%n", "regime", "series", "model", "oracle",
                "ideal", "m/best", "o/best", "i/best", "m<=0.8", "o<=0.8", "cov80");
        StringBuilder places = new StringBuilder();
        int series = 0;
        int[] counts = new int[4];
        double windows = 0;
        double covered = 0;
        double modelSum = 0;
        for (RegimeZoo.Regime r : regimes) {
            Row[] rows = IntStream.range(0, seeds).parallel()
                    .mapToObj(i -> row(RegimeZoo.generate(r, first + i, START, DAYS))).toArray(Row[]::new);
            int[] c = new int[5];
            double regimeWindows = 0;
            double regimeCovered = 0;
            double[][] byPlace = new double[PLACES.length][4];
            for (Row x : rows) {
                c[0] += x.model() > x.best() ? 1 : 0;
                c[1] += x.oracle() > x.best() ? 1 : 0;
                c[2] += x.model() <= 0.8 * x.best() ? 1 : 0;
                c[3] += x.oracle() <= 0.8 * x.best() ? 1 : 0;
                c[4] += x.ideal() > x.best() ? 1 : 0;
                regimeWindows += x.windows();
                regimeCovered += x.covered();
                modelSum += x.model();
                for (int p = 0; p < PLACES.length; p++) {
                    for (int k = 0; k < 4; k++) {
                        byPlace[p][k] += x.byPlace()[p][k];
                    }
                }
            }
            boolean ideal = !Double.isNaN(rows[0].ideal());
            out.printf(Locale.ROOT, "%-20s %7d %7s %7s %7s %7s %7s %7s %7s %7s %6.0f%%%n", r.slug(), seeds,
                    share(c[0], seeds), share(c[1], seeds), ideal ? share(c[4], seeds) : "-", ratio(rows, Row::model),
                    ratio(rows, Row::oracle), ideal ? ratio(rows, Row::ideal) : "-", share(c[2], seeds),
                    share(c[3], seeds), 100 * regimeCovered / regimeWindows);
            // the split says something only where some month has an event near it
            if (byPlace[PLACES.length - 1][3] < regimeWindows) {
                for (int p = 0; p < PLACES.length; p++) {
                    double n = byPlace[p][3];
                    if (n > 0) {
                        places.append(String.format(Locale.ROOT, "%-20s %-30s %6.0f %7.2f %7.2f %7.2f%n", r.slug(),
                                PLACES[p], n, 100 * byPlace[p][0] / n, 100 * byPlace[p][1] / n, 100 * byPlace[p][2] / n));
                    }
                }
            }
            series += seeds;
            for (int k = 0; k < 4; k++) {
                counts[k] += c[k];
            }
            windows += regimeWindows;
            covered += regimeCovered;
        }
        out.printf(Locale.ROOT, "%-20s %7d %7s %7s %31s %7s %7s %6.0f%%  (model's mean MAPE %.3f)%n", "all", series,
                share(counts[0], series), share(counts[1], series), "", share(counts[2], series),
                share(counts[3], series), 100 * covered / windows, modelSum / series);
        out.println("model, oracle, ideal: share of series that lose; m/best, o/best, i/best: mean MAPE over the mean of"
                + " the best baseline's; m<=0.8, o<=0.8: share of series at least 20 % below the best baseline; cov80:"
                + " months inside the model's 80 % band; ideal: a filter that knows the generator's parameters but not"
                + " the level or the future (only where the regime is a local level)");
        if (!places.isEmpty()) {
            out.println();
            out.printf(Locale.ROOT, "%-20s %-30s %6s %7s %7s %7s%n", "regime", "nearest event (by its first day)",
                    "months", "model", "linear", "roll14");
            out.print(places);
        }
    }

    private static Row row(RegimeZoo.Generated g) {
        List<Backtest.WindowError> errors = new Backtest(new Forecaster()).errors(g.series(), Backtest.WindowMode.month(),
                DAY);
        double[][] byPlace = new double[PLACES.length][4];
        for (Backtest.WindowError e : errors) {
            double[] p = byPlace[place(g, e)];
            p[0] += Math.abs(e.model());
            p[1] += Math.abs(e.linear());
            p[2] += Math.abs(e.rolling14());
            p[3]++;
        }
        Backtest.HorizonResult h = Backtest.summary(DAY, errors);
        return new Row(h.mapeModel(), g.oracleMape(DAY), g.idealMape(DAY), h.mapeBestBaseline(), h.windows(),
                (int) Math.round(h.coverage80() * h.windows()), byPlace);
    }

    /** Where the nearest of the regime's events falls from a month's point of view ({@link #PLACES}). */
    private static int place(RegimeZoo.Generated g, Backtest.WindowError e) {
        int best = PLACES.length - 1;
        LocalDate cut = e.start().plusDays(e.day());
        for (RegimeZoo.Event ev : g.events()) {
            if (ev.days() >= DAYS) {
                continue; // spans the series (a wandering level): no event in time
            }
            long before = ChronoUnit.DAYS.between(ev.day(), e.start());
            int p = !ev.day().isBefore(cut) && ev.day().isBefore(e.end()) ? 0
                    : !ev.day().isBefore(e.start()) && ev.day().isBefore(cut) ? 1
                    : before >= 1 && before <= 20 ? 2 : before > 20 && before <= 60 ? 3 : 4;
            best = Math.min(best, p);
        }
        return best;
    }

    private static String share(int k, int n) {
        return String.format(Locale.ROOT, "%.1f%%", 100.0 * k / n);
    }

    private static String ratio(Row[] rows, java.util.function.ToDoubleFunction<Row> f) {
        double a = 0;
        double b = 0;
        for (Row x : rows) {
            a += f.applyAsDouble(x);
            b += x.best();
        }
        return String.format(Locale.ROOT, "%.3f", a / b);
    }
}
