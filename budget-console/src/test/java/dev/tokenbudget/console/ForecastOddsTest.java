package dev.tokenbudget.console;

import dev.tokenbudget.forecast.Backtest;
import dev.tokenbudget.forecast.Forecaster;
import dev.tokenbudget.forecast.RegimeZoo;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ForecastOddsTest {

    private static String run(int seeds, long first, List<String> only) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ForecastOdds.run(new PrintStream(bytes, true, StandardCharsets.UTF_8), seeds, first, only);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static String row(String table, String regime) {
        return table.lines().filter(l -> l.startsWith(regime + " ")).findFirst().orElseThrow();
    }

    @Test
    void aRegimesRowIsTheBacktestOfItsSeriesBesideTheOracles() {
        String table = run(2, 5, List.of("launch-decay"));
        double model = 0;
        double best = 0;
        double oracle = 0;
        for (long seed = 5; seed <= 6; seed++) {
            RegimeZoo.Generated g = RegimeZoo.generate(RegimeZoo.Regime.LAUNCH_DECAY, seed, LocalDate.of(2024, 1, 1), 548);
            Backtest.HorizonResult h = new Backtest(new Forecaster()).run(g.series(), Backtest.WindowMode.month()).stream()
                    .filter(x -> x.day() == 10).findFirst().orElseThrow();
            model += h.mapeModel();
            best += h.mapeBestBaseline();
            oracle += g.oracleMape(10);
        }
        String[] cells = row(table, "launch-decay").trim().split("\\s+");
        assertThat(cells[1]).isEqualTo("2");
        assertThat(cells[4]).isEqualTo(String.format(Locale.ROOT, "%.3f", model / best));
        assertThat(cells[5]).isEqualTo(String.format(Locale.ROOT, "%.3f", oracle / best));
        // the oracle knows every launch before it comes: it never loses, and wins big on both series
        assertThat(cells[3]).isEqualTo("0.0%");
        assertThat(cells[7]).isEqualTo("100.0%");
        assertThat(table).doesNotContain("steady-weekly");
        // the months split by where the nearest launch falls add up to the series' months
        long months = table.lines().filter(l -> l.startsWith("launch-decay ") && (l.contains("event") || l.contains("none")))
                .mapToLong(l -> Long.parseLong(l.substring(52).trim().split("\\s+")[0])).sum();
        assertThat(months).isEqualTo(2 * 18);
        assertThat(row(table, "all")).contains("model's mean MAPE " + String.format(Locale.ROOT, "%.3f", model / 2));
    }

    @Test
    void anUnknownRegimeIsNamedNotSkipped() {
        assertThatThrownBy(() -> run(1, 1, List.of("steady-weekly", "wandering")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wandering");
    }
}
