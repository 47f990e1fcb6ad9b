package dev.tokenbudget.example;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.console.admin.AdminServer;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.ReportedUsage;
import dev.tokenbudget.fake.StreamPacer;
import dev.tokenbudget.store.TokenCounts;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a team that adds tokenbudget to its own Spring Cloud Gateway can rely on, run against the
 * example gateway of each Spring Boot line (examples/spring-cloud-gateway/boot4 and boot3): budgets
 * settled from the provider's own usage, JSON and streamed; a hard stop's 429 with Retry-After; a
 * cheaper model on the economy route from 90 %; the admin API, the Actuator endpoint and the
 * Prometheus scrape from properties alone. The provider is the fake one on loopback, which
 * demands the upstream key, so a virtual key reaching it would fail.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "tokenbudget.admin.port=0")
public abstract class GatewaySuite {

    static final String UPSTREAM_KEY = "sk-example-upstream";
    static final FakeProvider OPENAI = FakeProvider.start(0).requireApiKey(UPSTREAM_KEY);
    static final FakeProvider ECONOMY = FakeProvider.start(0).requireApiKey(UPSTREAM_KEY);
    static final ObjectMapper JSON = new ObjectMapper();

    @DynamicPropertySource
    static void upstreams(DynamicPropertyRegistry r) {
        r.add("example.upstream.openai", OPENAI::baseUrl);
        r.add("example.upstream.economy", ECONOMY::baseUrl);
        // the engine config names OPENAI_API_KEY; the Spring environment supplies it here
        r.add("OPENAI_API_KEY", () -> UPSTREAM_KEY);
        r.add("TOKENBUDGET_ADMIN_TOKEN", () -> "example-admin-token-0123456789");
    }

    @LocalServerPort
    int port;

    @Autowired
    BudgetEngine engine;

    @Autowired
    AdminServer admin;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void resetFakes() {
        for (FakeProvider f : new FakeProvider[]{OPENAI, ECONOMY}) {
            f.clear();
            f.pacer(StreamPacer.fixed(Duration.ZERO)).replyTokens(FakeProvider.DEFAULT_REPLY_TOKENS);
        }
    }

    @Test
    void aRequestIsAdmittedAndSettledWithTheProvidersOwnUsage() throws Exception {
        long before = used("team").total();
        HttpResponse<String> r = chat("vk-example-team", false);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("application/json");
        assertThat(r.headers().firstValue("x-tokenbudget-decision")).hasValue("allow");
        assertThat(json(r.body()).get("usage")).isNotNull();
        assertThat(OPENAI.lastExchange().request().header("authorization")).isEqualTo("Bearer " + UPSTREAM_KEY);
        long reported = OPENAI.totalReportedUsage().totalTokens();
        await(() -> used("team").total() - before, reported);
    }

    @Test
    void aStreamArrivesAsServerSentEventsAndIsSettledExactly() throws Exception {
        long before = used("team").total();
        HttpResponse<String> r = chat("vk-example-team", true);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("text/event-stream");
        List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).toList();
        assertThat(events).hasSizeGreaterThan(2).last().isEqualTo("data: [DONE]");
        ReportedUsage reported = OPENAI.totalReportedUsage();
        assertThat(reported.totalTokens()).isPositive();
        await(() -> used("team").total() - before, reported.totalTokens());
    }

    @Test
    void aHardStopAnswers429WithRetryAfterOnceItsDayIsSpent() throws Exception {
        List<Integer> statuses = new ArrayList<>();
        HttpResponse<String> rejected = null;
        for (int i = 0; i < 60 && rejected == null; i++) {
            HttpResponse<String> r = chat("vk-example-hard", false);
            statuses.add(r.statusCode());
            if (r.statusCode() == 429) {
                rejected = r;
            }
        }

        assertThat(rejected).as("a 429 within 60 requests: %s", statuses).isNotNull();
        assertThat(statuses.subList(0, statuses.size() - 1)).isNotEmpty().containsOnly(200);
        long retryAfter = Long.parseLong(rejected.headers().firstValue("retry-after").orElseThrow());
        long toMidnight = Duration.between(Instant.now(), Instant.now().atZone(java.time.ZoneOffset.UTC)
                .toLocalDate().plusDays(1).atStartOfDay(java.time.ZoneOffset.UTC)).toSeconds();
        assertThat(retryAfter).isBetween(toMidnight - 60, toMidnight + 60);
        assertThat(json(rejected.body()).get("error").get("message").asText()).contains("hard");
        assertThat(OPENAI.exchanges()).hasSize(statuses.size() - 1);
    }

    @Test
    void fromNinetyPercentACheaperModelIsServedByTheEconomyRoute() throws Exception {
        HttpResponse<String> degraded = null;
        for (int i = 0; i < 80 && degraded == null; i++) {
            HttpResponse<String> r = chat("vk-example-soft", false);
            assertThat(r.statusCode()).as("a degrade budget never refuses").isEqualTo(200);
            if (r.headers().firstValue("x-tokenbudget-decision").orElse("").equals("degrade")) {
                degraded = r;
            }
        }

        assertThat(degraded).as("degraded within 80 requests").isNotNull();
        assertThat(json(degraded.body()).get("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(ECONOMY.exchanges()).hasSize(1);
        assertThat(json(new String(ECONOMY.lastExchange().request().body())).get("model").asText())
                .isEqualTo("gpt-4o-mini");
    }

    @Test
    void theAdminApiIsServedFromPropertiesBehindItsToken() throws Exception {
        URI budgets = admin.uri().resolve("/v1/budgets");
        HttpResponse<String> ok = http.send(HttpRequest.newBuilder(budgets)
                .header("Authorization", "Bearer example-admin-token-0123456789").build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(budgets).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(admin.uri().getHost()).isEqualTo("127.0.0.1");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(json(ok.body()).get("budgets").findValuesAsText("id")).contains("org", "team", "hard", "soft");
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

    @Test
    void actuatorShowsTheBudgetTreeAndPrometheusScrapesTheEnginesMeters() throws Exception {
        chat("vk-example-team", false);
        await(() -> engine.status("team").orElseThrow().windows().get(0).reserved().total(), 0);

        JsonNode tree = json(get("/actuator/tokenbudget").body()).get("budgets");
        assertThat(tree.findValuesAsText("id")).contains("org", "team", "hard", "soft");
        String scrape = get("/actuator/prometheus").body();
        assertThat(scrape).contains("tokenbudget_tokens_total{tokenbudget_budget=\"team\",tokenbudget_direction=\"input\"}")
                .contains("tokenbudget_utilization{tokenbudget_budget=\"team\"}");
    }

    private HttpResponse<String> chat(String key, boolean stream) throws IOException, InterruptedException {
        String body = "{\"model\":\"gpt-4o\",\"max_tokens\":100,\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"How much of the budget is left?\"}]}";
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
        return r;
    }

    private TokenCounts used(String budgetId) {
        return engine.status(budgetId).orElseThrow().windows().get(0).used();
    }

    private static JsonNode json(String body) throws IOException {
        return JSON.readTree(body);
    }

    /** Settlement follows the response's last byte: polls, bounded, until {@code value} reaches {@code expected}. */
    private static void await(LongSupplier value, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (value.getAsLong() != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(value.getAsLong()).isEqualTo(expected);
    }
}
