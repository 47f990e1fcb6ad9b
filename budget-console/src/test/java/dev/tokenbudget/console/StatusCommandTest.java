package dev.tokenbudget.console;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.console.admin.AdminServer;
import dev.tokenbudget.console.admin.WindowForecast;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code tokenbudget status} against a real admin server on loopback. */
class StatusCommandTest {

    private static final String TOKEN = "status-test-token-0123456789";

    private final Terminal cli = new Terminal();
    private BudgetEngine engine;
    private AdminServer server;

    @BeforeEach
    void start() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-11-10T08:00:00Z"));
        engine = BudgetEngine.builder(ConfigLoader.parse(Files.readString(Path.of("../examples/config/tokenbudget.yaml"))))
                .clock(clock).build();
        // a forecast only for the support team's month, so that the table shows both cases
        server = AdminServer.builder(engine).token(TOKEN).port(0).sampleInterval(Duration.ZERO)
                .forecasts((id, w) -> id.equals("support") && w.window().startsWith("month:")
                        ? Optional.of(new WindowForecast(clock.now(), "total", 300_000_000, 400_000_000, 450_000_000,
                        410_000_000, 490_000_000, 380_000_000, 520_000_000, w.end(),
                        Instant.parse("2026-11-27T14:00:00Z"), "weekday", 40, 8.0,
                        java.util.List.of("weights: trend 100 %", "trend +12 %/month", "bands from 30 past forecasts at this horizon")))
                        : Optional.empty())
                .start();
        Ticket t = engine.reserve(new BudgetRequest(engine.authenticate("sk-tb-support-example").orElseThrow(), null,
                null, "gpt-4.1", 250_000_000, 50_000_000));
        engine.settle(t, TokenUsage.of(250_000_000, 50_000_000));
    }

    @AfterEach
    void stop() {
        server.close();
        engine.close();
    }

    private String url() {
        return "http://127.0.0.1:" + server.port();
    }

    @Test
    void printsTheTreeWithBarsStatesAndProjections() {
        int rc = cli.run("status", "--url", url(), "--token", TOKEN, "--zone", "UTC");
        assertThat(rc).as(cli.err()).isZero();
        List<String> lines = cli.out().lines().toList();
        assertThat(lines.get(0)).startsWith("tokenbudget status  " + url() + "  at Nov 10 08:00");
        assertThat(lines.get(2)).startsWith("BUDGET").contains("UTILISATION").contains("PROJECTED");
        // support: 300M of 400M this month (75%), 300M of its rolling 150M a week (degraded)
        String support = lines.stream().filter(l -> l.startsWith("  support ")).findFirst().orElseThrow();
        assertThat(support).contains("degraded").contains("month:2026-11").contains("300M / 400M")
                .contains("[###############.....]  75%")
                .contains("450M (113%) 80%: 410M-490M, runs out Nov 27 14:00; trend +12 %/month")
                .doesNotContain("weights:", "bands from");
        int i = lines.indexOf(support);
        assertThat(lines.get(i + 1)).contains("rolling-7d").contains("300M / 150M").contains("[####################] 200%")
                .endsWith("-");
        assertThat(lines).anyMatch(l -> l.startsWith("    support-copilot") && l.contains("250M / 250M input")
                && l.contains("100%"));
        assertThat(lines).anyMatch(l -> l.startsWith("acme ") && l.contains("ok") && l.contains("300M / 1B")
                && l.contains("[######..............]  30%"));
        assertThat(lines).anyMatch(l -> l.startsWith("    key:agents") && l.contains("0 / 2M"));
    }

    @Test
    void failsClearlyOnAWrongToken() {
        assertThat(cli.run("status", "--url", url(), "--token", "wrong-token-0123456789")).isEqualTo(1);
        assertThat(cli.err()).contains("refused the token (401)");
        assertThat(cli.out()).isEmpty();
    }

    @Test
    void failsClearlyWhenNothingListens() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThat(cli.run("status", "--url", "http://127.0.0.1:" + port, "--token", TOKEN)).isEqualTo(1);
        assertThat(cli.err()).contains("cannot reach the admin API at http://127.0.0.1:" + port);
    }

    @Test
    void failsClearlyOnABadUrl() {
        assertThat(cli.run("status", "--url", "127.0.0.1:8081", "--token", TOKEN)).isEqualTo(1);
        assertThat(cli.err()).contains("bad --url '127.0.0.1:8081'");
    }
}
