package dev.tokenbudget.quickstart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.console.admin.HeadlessChromium;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The acceptance test of the dashboard: {@code bin/quickstart} running as a user starts it
 * (its own process, on free loopback ports, with the admin token it generates and prints), real
 * OpenAI and Anthropic requests through its gateway with the demo keys, then the page at {@code /}
 * on its admin port in headless Chromium must draw each budget's burn-down with that usage and show
 * the numbers the admin API reports. Screenshots: {@code target/quickstart-dashboard-playground.png}
 * (the budget the URL opens) and {@code target/quickstart-dashboard.png} (after a click on {@code
 * hard-stop} in the tree, run out to its limit). The quickstart's output is kept in {@code
 * target/quickstart-dashboard.log}.
 */
class QuickstartDashboardIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path ROOT = Path.of(System.getProperty("tokenbudget.root", "../..")).toAbsolutePath()
            .normalize();
    private static final Path BUILD = Path.of(System.getProperty("tokenbudget.build", "target")).toAbsolutePath();
    /** A bound on a dashboard that never finishes drawing, not a speed requirement. */
    private static final Duration RENDER_TIMEOUT = Duration.ofSeconds(60);
    private static final int REPLY_TOKENS = 400;

    /** What the page shows, read in one go. */
    private static final String READ_PAGE = """
            (() => {
              const text = (e) => (e ? e.textContent : null);
              return {
                state: document.body.getAttribute('data-state'),
                status: text(document.getElementById('status')),
                address: location.href,
                title: text(document.getElementById('chart-title')),
                tree: [...document.querySelectorAll('#tree tr')].map((r) => ({
                  id: r.getAttribute('data-budget'), state: r.cells[1].textContent,
                  utilisation: r.cells[2].textContent, used: r.cells[3].textContent })),
                charts: [...document.querySelectorAll('#charts .chart')].map((c) => ({
                  window: c.getAttribute('data-window'),
                  points: Number(c.getAttribute('data-points')),
                  last: c.getAttribute('data-last-point'),
                  label: c.querySelector('svg').getAttribute('aria-label'),
                  sub: text(c.querySelector('.sub')),
                  series: [...c.querySelectorAll('[data-series]')].map((s) => s.getAttribute('data-series')),
                  actual: c.querySelector('[data-series="actual"]')
                    ? c.querySelector('[data-series="actual"]').getAttribute('points') : null })),
                events: [...document.querySelectorAll('#events tr[data-type]')].map((r) => r.getAttribute('data-type')),
                html: document.documentElement.outerHTML
              };
            })()""";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void theDashboardOfARunningQuickstartDrawsTheUsageSentThroughItsGateway(@TempDir Path browserDir)
            throws Exception {
        HeadlessChromium.executable(); // skips (or fails under CI) before anything is started
        Files.createDirectories(BUILD);
        try (RunningQuickstart qs = RunningQuickstart.start(ROOT, BUILD.resolve("quickstart-dashboard.log"))) {
            assertThat(qs.gateway().getPort()).isNotIn(8080, 8081);
            assertThat(qs.admin().getPort()).isNotIn(8080, 8081, qs.gateway().getPort());
            sendUsage(qs.gateway());
            JsonNode budgets = settled(qs);
            JsonNode playground = budget(budgets, "playground");
            // four answers of the fake model through the demo key, two of them streamed
            assertThat(playground.path("windows").get(0).path("used").path("output").asLong())
                    .isEqualTo(4L * REPLY_TOKENS);

            try (HeadlessChromium browser = HeadlessChromium.start(browserDir, 1280, 1000)) {
                // the token in the fragment, as docs/admin-api.md says: the page keeps it in sessionStorage
                browser.navigate(qs.admin() + "#token=" + qs.token() + "&budget=playground");
                browser.await("['ready', 'error'].includes(document.body.getAttribute('data-state'))",
                        RENDER_TIMEOUT);
                JsonNode page = browser.evaluate(READ_PAGE);
                assertThat(page.path("state").asText()).as("status: " + page.path("status")).isEqualTo("ready");
                assertThat(page.path("address").asText()).as("the token left the address bar")
                        .isEqualTo(qs.admin().toString());
                assertThat(page.path("html").asText()).doesNotContain(qs.token());
                assertShows(page, budgets, qs.adminGet("/v1/budgets/playground"));
                // running the hard stop out crossed its thresholds and was refused at the limit
                assertThat(texts(page.path("events"))).contains("threshold_crossed", "request_rejected");
                screenshot(browser, "quickstart-dashboard-playground.png");

                // a click on another budget in the tree draws its burn-down
                browser.evaluate("document.querySelector('#tree tr[data-budget=\"hard-stop\"]').click()");
                browser.await("(() => { const s = [...document.querySelectorAll('#charts svg')];"
                        + " return s.length > 0 && s.every((x) => x.getAttribute('aria-label')"
                        + ".startsWith('burn-down of hard-stop ')); })()", RENDER_TIMEOUT);
                assertShows(browser.evaluate(READ_PAGE), settled(qs), qs.adminGet("/v1/budgets/hard-stop"));
                screenshot(browser, "quickstart-dashboard.png");

                assertThat(browser.problems()).as("errors in the page").isEmpty();
            }
        }
    }

    /**
     * The tree shows every budget with the state, utilisation and used / limit of the admin API's
     * {@code /v1/budgets}, and the burn-down of the selected budget draws one chart per window of
     * its {@code /v1/budgets/{id}}, each a line that rises from the empty start to the usage there.
     */
    private static void assertShows(JsonNode page, JsonNode budgets, JsonNode selectedBudget) {
        List<String> ids = new ArrayList<>();
        budgets.path("budgets").forEach(b -> ids.add(b.path("id").asText()));
        List<String> rows = new ArrayList<>();
        page.path("tree").forEach(r -> rows.add(r.path("id").asText()));
        assertThat(rows).isEqualTo(ids);
        for (JsonNode row : page.path("tree")) {
            JsonNode b = budget(budgets, row.path("id").asText());
            JsonNode w = bindingWindow(b);
            String dim = w.path("binding_dimension").asText("total");
            assertThat(row.path("state").asText()).as(b.path("id").asText()).isEqualTo(b.path("state").asText());
            assertThat(row.path("utilisation").asText()).as(b.path("id").asText())
                    .isEqualTo(Math.round(b.path("utilisation").asDouble() * 100) + "%");
            assertThat(row.path("used").asText()).as(b.path("id").asText()).isEqualTo(
                    tokens(w.path("used").path(dim).asLong() + w.path("reserved").path(dim).asLong()) + " / "
                            + tokens(w.path("limits").path(dim).asLong()));
        }

        String selected = selectedBudget.path("id").asText();
        assertThat(page.path("title").asText()).isEqualTo("Burn-down · " + selected);
        List<String> windows = new ArrayList<>();
        selectedBudget.path("windows").forEach(w -> windows.add(w.path("key").asText()));
        List<String> charts = new ArrayList<>();
        page.path("charts").forEach(c -> charts.add(c.path("window").asText()));
        assertThat(charts).isEqualTo(windows);
        for (int i = 0; i < windows.size(); i++) {
            JsonNode w = selectedBudget.path("windows").get(i);
            JsonNode c = page.path("charts").get(i);
            String dim = w.path("binding_dimension").asText("total");
            long used = w.path("used").path(dim).asLong();
            assertThat(used).as(selected + " has usage").isPositive();
            assertThat(c.path("label").asText()).isEqualTo("burn-down of " + selected + " " + w.path("key").asText());
            assertThat(texts(c.path("series"))).contains("actual", "limit", "threshold");
            assertThat(c.path("sub").asText()).startsWith(tokens(used) + " used · "
                    + tokens(w.path("reserved").path(dim).asLong()) + " reserved · limit "
                    + tokens(w.path("limits").path(dim).asLong()));
            // the sampled history: the empty start of the quickstart, then the usage now
            assertThat(c.path("points").asInt()).as(c.toString()).isGreaterThanOrEqualTo(2);
            assertThat(c.path("last").asText()).as(c.toString()).isEqualTo(Long.toString(used));
            String[] xy = c.path("actual").asText().trim().split("\\s+");
            assertThat(xy).as(c.toString()).hasSize(c.path("points").asInt());
            double firstY = Double.parseDouble(xy[0].split(",")[1]);
            double lastY = Double.parseDouble(xy[xy.length - 1].split(",")[1]);
            // SVG y grows downwards: the line ends above where it started
            assertThat(lastY).as("the drawn line rises: " + c).isLessThan(firstY);
        }
    }

    /** OpenAI and Anthropic, plain and streamed, with {@code demo-key}; then {@code demo-hard-stop} until it is refused. */
    private void sendUsage(URI gateway) throws IOException, InterruptedException {
        String chat = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]";
        String messages = "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":" + REPLY_TOKENS
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]";

        HttpResponse<String> r = post(gateway, "/v1/chat/completions", "Authorization", "Bearer demo-key", chat + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).path("usage").path("completion_tokens").asInt()).isEqualTo(REPLY_TOKENS);
        r = post(gateway, "/v1/chat/completions", "Authorization", "Bearer demo-key", chat + ",\"stream\":true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        assertThat(r.body()).contains("\"usage\"").contains("data: [DONE]");
        r = post(gateway, "/v1/messages", "x-api-key", "demo-key", messages + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).path("usage").path("output_tokens").asInt()).isEqualTo(REPLY_TOKENS);
        r = post(gateway, "/v1/messages", "x-api-key", "demo-key", messages + ",\"stream\":true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).startsWith("event: message_start").contains("event: message_stop");

        // 20,000 tokens a day: about 50 answers; bounded in case the stop never comes
        int status = 200;
        for (int i = 0; i < 100 && status == 200; i++) {
            status = post(gateway, "/v1/chat/completions", "Authorization", "Bearer demo-hard-stop", chat + "}")
                    .statusCode();
        }
        assertThat(status).as("demo-hard-stop is refused at its limit").isEqualTo(429);
    }

    private HttpResponse<String> post(URI gateway, String path, String header, String value, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(gateway.resolve(path)).header(header, value)
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (path.equals("/v1/messages")) {
            b.header("anthropic-version", "2023-06-01");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The budget tree once every request is settled (nothing reserved; a stream settles as it
     * ends), so the page and the test read the same numbers.
     */
    private static JsonNode settled(RunningQuickstart qs) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonNode budgets;
        do {
            budgets = qs.adminGet("/v1/budgets");
            if (budgets.findValues("reserved").stream().allMatch(r -> r.path("total").asLong() == 0)) {
                return budgets;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("tokens still reserved 30 s after the last answer: " + budgets);
    }

    private static JsonNode budget(JsonNode budgets, String id) {
        for (JsonNode b : budgets.path("budgets")) {
            if (b.path("id").asText().equals(id)) {
                return b;
            }
        }
        throw new AssertionError("no budget " + id + " in " + budgets);
    }

    /** The window the tree shows: the highest utilisation, the first of equals (dashboard.js bindingWindow). */
    private static JsonNode bindingWindow(JsonNode b) {
        JsonNode binding = null;
        for (JsonNode w : b.path("windows")) {
            if (binding == null || w.path("utilisation").asDouble() > binding.path("utilisation").asDouble()) {
                binding = w;
            }
        }
        return binding;
    }

    /** A token count as the dashboard writes it (dashboard.js tokens()): 408, 2.41k, 20k, 1.5M. */
    static String tokens(long n) {
        double a = Math.abs(n);
        if (a >= 1e9) {
            return trim(n / 1e9) + "B";
        }
        if (a >= 1e6) {
            return trim(n / 1e6) + "M";
        }
        if (a >= 1e3) {
            return trim(n / 1e3) + "k";
        }
        return Long.toString(n);
    }

    /** Number.toFixed (0 to 2 digits by size, exact binary value, halves up) without trailing zeros. */
    private static String trim(double x) {
        int digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
        String t = new BigDecimal(x).setScale(digits, RoundingMode.HALF_UP).toPlainString();
        return t.contains(".") ? t.replaceAll("0+$", "").replaceAll("\\.$", "") : t;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static void screenshot(HeadlessChromium browser, String name) throws IOException, InterruptedException {
        Path file = BUILD.resolve(name);
        Files.deleteIfExists(file);
        byte[] png = browser.screenshot(file);
        assertThat(png).startsWith(0x89, 'P', 'N', 'G');
        assertThat(png.length).isGreaterThan(20_000);
    }
}
