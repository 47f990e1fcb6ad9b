package dev.tokenbudget.forecast;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The forecaster against linear month-to-date extrapolation and the 14-day rolling average on
 * the committed example series (PRODUCT.md); the regime zoo is checked in {@link ZooBacktestTest}.
 */
class BacktestTest {

    private static final Path DATA = Path.of("..", "examples", "data");
    private static final LocalDate START = LocalDate.of(2024, 1, 1);
    private final Backtest backtest = new Backtest(new Forecaster());

    private static DailySeries committed(String file) throws IOException {
        try (var r = Files.newBufferedReader(DATA.resolve(file))) {
            return UsageCsv.read(r, file);
        }
    }

    /** At every horizon, from day 5 to day 25, at most the better of linear and rolling-14. */
    private static void assertNeverWorseThanTheBetterBaseline(List<Backtest.HorizonResult> results, String what) {
        assertThat(results).extracting(Backtest.HorizonResult::day).containsExactly(5, 10, 15, 20, 25);
        for (Backtest.HorizonResult r : results) {
            assertThat(r.mapeModel()).as(what + " day " + r.day()).isLessThanOrEqualTo(r.mapeBestBaseline());
        }
    }

    @Test
    void committedSeriesAreExactlyWhatTheGeneratorMakes() throws IOException {
        assertThat(Files.readString(DATA.resolve("weekday-seasonal.csv"))).isEqualTo(SyntheticSeries.csv(
                SyntheticSeries.generate(SyntheticSeries.Kind.WEEKDAY_SEASONAL, 42, START, 1096)));
        assertThat(Files.readString(DATA.resolve("level-shifts.csv"))).isEqualTo(SyntheticSeries.csv(
                SyntheticSeries.generate(SyntheticSeries.Kind.LEVEL_SHIFTS, 7, START, 1096)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"weekday-seasonal.csv", "level-shifts.csv", "sp500-volume.csv"})
    void neverWorseThanTheBetterBaselineOnTheExampleSeries(String file) throws IOException {
        assertNeverWorseThanTheBetterBaseline(backtest.run(committed(file), Backtest.WindowMode.month()), file + " months");
    }

    @Test
    void theEightyPercentBandCoversRoughlyEightyPercent() throws IOException {
        for (String file : List.of("weekday-seasonal.csv", "level-shifts.csv", "sp500-volume.csv")) {
            for (Backtest.HorizonResult r : backtest.run(committed(file), Backtest.WindowMode.month())) {
                assertThat(r.coverage80()).as(file + " day " + r.day()).isBetween(0.6, 0.97);
                assertThat(r.coverage95()).as(file + " day " + r.day()).isGreaterThanOrEqualTo(r.coverage80());
            }
        }
    }

    @Test
    void nDayWindowsSkipHorizonsBeyondTheWindow() throws IOException {
        StringBuilder sb = new StringBuilder("date,total_tokens\n");
        for (int i = 0; i < 40; i++) {
            sb.append(LocalDate.of(2026, 1, 1).plusDays(i)).append(",1000\n");
        }
        DailySeries s = UsageCsv.read(new StringReader(sb.toString()), "flat");
        List<Backtest.HorizonResult> r = backtest.run(s, Backtest.WindowMode.days(12));
        assertThat(r).extracting(Backtest.HorizonResult::day).containsExactly(5, 10);
        assertThat(r.get(0).windows()).isEqualTo(40 - 12 + 1);
        // a flat series is forecast exactly by all three
        assertThat(r.get(1).mapeModel()).isLessThan(0.01);
        assertThat(r.get(1).mapeLinear()).isLessThan(0.01);
    }
}
