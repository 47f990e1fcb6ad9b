package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.engine.BudgetRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The dashboard: served from the jar without the token, and driven in headless Chromium against real usage. */
class DashboardTest {

    private static final Path SCREENSHOT = Path.of("target", "dashboard.png");

    @Test
    void servesThePageAndItsFilesWithoutTheTokenAndWithAStrictContentSecurityPolicy() {
        try (AdminFixture f = new AdminFixture()) {
            HttpResponse<String> page = f.send("GET", "/", null, null);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp ->
                    assertThat(csp).contains("script-src 'self'").contains("connect-src 'self'")
                            .doesNotContain("unsafe-inline"));
            assertThat(page.body()).contains("<script src=\"dashboard.js\"").doesNotContain(AdminFixture.TOKEN);
            HttpResponse<String> js = f.send("GET", "/dashboard.js", null, null);
            assertThat(js.statusCode()).isEqualTo(200);
            // nothing from the internet: the only absolute URL is the SVG namespace name
            assertThat(js.body()).contains("sessionStorage").doesNotContainPattern("https?://(?!www\\.w3\\.org/2000/svg')");
            assertThat(f.send("GET", "/dashboard.css", null, null).statusCode()).isEqualTo(200);
            AdminApiTest.assertError(f.send("POST", "/", "{}", null), 405, "allowed: GET");
            AdminApiTest.assertError(f.send("GET", "/dashboard.js.map", null, null), 404, "nothing at");
        }
    }

    @Test
    void rendersTheTreeABurnDownChartWithForecastAndThresholdsAndTheLatestEvents(@TempDir Path profile)
            throws Exception {
        String chromium = HeadlessChromium.executable();
        Instant start = Instant.parse("2026-11-03T00:00:00Z");
        // the default forecasts: the engine's forecaster over the history the server samples
        try (AdminFixture f = new AdminFixture(start, AdminFixture.exampleConfig(), b -> {
        })) {
            simulateAWeek(f);
            String url = f.server.uri() + "#token=" + AdminFixture.TOKEN + "&budget=support";

            String dom = run(chromium, profile, "--dump-dom", url);
            assertThat(dom).contains("data-state=\"ready\"");
            Matcher m = Pattern.compile("id=\"charts\" data-rendered=\"(\\d+) points\"").matcher(dom);
            assertThat(m.find()).as("the charts report what they drew:\n" + dom).isTrue();
            // two windows of support, each with its sampled week plus the point for now
            assertThat(Integer.parseInt(m.group(1))).isGreaterThanOrEqualTo(2 * 80);
            assertThat(dom).contains("data-window=\"month:2026-11\"").contains("data-window=\"rolling-7d\"");
            assertThat(dom).contains("data-series=\"actual\"").contains("data-series=\"forecast\"")
                    .contains("data-series=\"band80\"").contains("data-series=\"limit\"")
                    .contains("data-series=\"threshold\"");
            // the tree lists every budget; the events table shows the crossing and the rejections
            for (String id : List.of("acme", "support-copilot", "internal-agents", "key:agents")) {
                assertThat(dom).contains("data-budget=\"" + id + "\"");
            }
            assertThat(dom).contains("threshold_crossed").contains("request_rejected").contains("limits_changed");
            // the token left the address bar and is nowhere in the page
            assertThat(dom).doesNotContain(AdminFixture.TOKEN);

            Files.deleteIfExists(SCREENSHOT);
            run(chromium, profile, "--screenshot=" + SCREENSHOT.toAbsolutePath(), url);
            byte[] png = Files.readAllBytes(SCREENSHOT);
            assertThat(png).startsWith(0x89, 'P', 'N', 'G');
            assertThat(png.length).isGreaterThan(20_000);
        }
    }

    /**
     * A week of support traffic, heavier on weekdays, sampled every two hours, then a runaway agent
     * that hits its key's daily cap, and an operator who lowers the agents' day limit.
     */
    private static void simulateAWeek(AdminFixture f) {
        for (int step = 0; step < 7 * 12; step++) {
            f.clock.advance(Duration.ofHours(2));
            Instant now = f.clock.now();
            int hour = now.atZone(ZoneOffset.UTC).getHour();
            boolean weekend = now.atZone(ZoneOffset.UTC).getDayOfWeek().getValue() >= DayOfWeek.SATURDAY.getValue();
            long base = hour >= 8 && hour <= 18 ? 2_600_000 : 600_000;
            long in = weekend ? base / 3 : base;
            f.spend(AdminFixture.SUPPORT_KEY, in, in / 5);
            f.server.sample();
        }
        var agents = f.engine.authenticate(AdminFixture.AGENTS_KEY).orElseThrow();
        for (int i = 0; i < 5; i++) {
            f.engine.reserve(new BudgetRequest(agents, null, null, "gpt-4.1", 400_000, 100_000));
        }
        HttpResponse<String> put = f.send("PUT", "/v1/budgets/internal-agents/limits",
                "{\"window\":\"day\",\"limits\":{\"total\":\"4M\"},\"reason\":\"runaway agent\"}", AdminFixture.TOKEN);
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        JsonNode support = f.ok("/v1/budgets/support");
        assertThat(support.path("windows").get(1).path("utilisation").asDouble()).isGreaterThan(0.75);
    }

    private static String run(String chromium, Path profile, String mode, String url)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(HeadlessChromium.command(chromium, profile, 1280, 900));
        cmd.addAll(List.of("--virtual-time-budget=5000", mode, url));
        Path stdout = profile.resolveSibling(profile.getFileName() + "-out.html");
        Path stderr = profile.resolveSibling(profile.getFileName() + "-err.txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        // a bound on a stuck browser, not a speed requirement
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish within 180 s: " + Files.readString(stderr));
        }
        assertThat(p.exitValue()).as(Files.readString(stderr, StandardCharsets.UTF_8)).isZero();
        return Files.readString(stdout, StandardCharsets.UTF_8);
    }
}
