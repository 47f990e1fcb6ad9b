package dev.tokenbudget.scg;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.console.admin.AdminServer;
import dev.tokenbudget.fake.ReportedUsage;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.context.TestPropertySource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an operator gets in their own gateway from properties alone: the admin API and dashboard
 * ({@code tokenbudget.admin.*}), {@code /actuator/tokenbudget} and the engine's meters in the
 * application's Micrometer registry (which Actuator's Prometheus endpoint, among others, serves).
 */
@TestPropertySource(properties = {
        "tokenbudget.admin.enabled=true",
        "tokenbudget.admin.port=0",
        "tokenbudget.admin.token=operator-surface-test-token",
        "management.endpoints.web.exposure.include=tokenbudget"})
class OperatorSurfaceTest extends GatewayTestBase {

    private static final String ADMIN_TOKEN = "operator-surface-test-token";

    @Autowired
    AdminServer admin;

    @Autowired
    MeterRegistry meters;

    private void spend(String key) {
        client().post().uri("/v1/chat/completions")
                .header(HttpHeaders.AUTHORIZATION, "Bearer " + key)
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(BudgetEnforcementTest.chat("gpt-4o", 50, false))
                .exchange().expectStatus().isOk();
    }

    private String get(String path) {
        return new String(client().get().uri(path).exchange().expectStatus().isOk()
                .expectBody().returnResult().getResponseBodyContent());
    }

    /** Spends through the gateway and waits until it is settled; the engine is shared by the tests here. */
    private ReportedUsage spendAndSettle() {
        long before = used("team").total();
        OPENAI.clear();
        spend("vk-it-team");
        ReportedUsage reported = OPENAI.totalReportedUsage();
        await("settled", () -> reserved("team").total() == 0 && used("team").total() > before);
        return reported;
    }

    @Test
    void actuatorEndpointShowsTheBudgetTreeWithWhatTheEngineSettled() {
        spendAndSettle();

        JsonNode budgets = json(get("/actuator/tokenbudget").getBytes()).get("budgets");
        JsonNode team = null;
        for (JsonNode b : budgets) {
            if (b.get("id").asText().equals("team")) {
                team = b;
            }
        }
        assertThat(team).as("team in %s", budgets).isNotNull();
        assertThat(team.get("parent").asText()).isEqualTo("org");
        JsonNode window = team.get("windows").get(0);
        assertThat(window.get("used").get("input").asLong()).isEqualTo(used("team").input()).isPositive();
        assertThat(window.get("used").get("output").asLong()).isEqualTo(used("team").output()).isPositive();
        assertThat(window.has("forecast")).isTrue();

        JsonNode one = json(get("/actuator/tokenbudget/team").getBytes());
        assertThat(one.get("id").asText()).isEqualTo("team");
        client().get().uri("/actuator/tokenbudget/no-such-budget").exchange().expectStatus().isNotFound();
    }

    @Test
    void engineMetersReachMicrometerUnderTheOpenTelemetryNames() {
        // a budget only this test spends, so that no earlier settle still on its way to the
        // meters (the engine counts after the store has settled) can move the figures read here
        OPENAI.clear();
        spend("vk-it-meters");
        ReportedUsage reported = OPENAI.totalReportedUsage();
        assertThat(reported.inputTokens()).isPositive();
        assertThat(reported.outputTokens()).isPositive();
        await("the token counters", () -> tokens("input") == reported.inputTokens()
                && tokens("output") == reported.outputTokens());
        assertThat(used("key:meters").total()).isEqualTo(reported.totalTokens());
        assertThat(meters.get("tokenbudget.decisions").tag("tokenbudget.outcome", "allow")
                .tag("tokenbudget.reason", "within_budget").counter().count()).isPositive();
        // the gauge reads the engine's status at most once a second, however many budgets a scrape reads
        spendAndSettle();
        double utilisation = engine.status("team").orElseThrow().utilisation();
        await("the utilisation gauge", () -> meters.get("tokenbudget.utilization").tag("tokenbudget.budget", "team")
                .gauge().value() == utilisation);
        assertThat(meters.get("tokenbudget.store.latency").tag("tokenbudget.store.operation", "reserve")
                .timer().count()).isGreaterThanOrEqualTo(2);
    }

    /** The tokens counted for the key's own budget; 0 until its first settle has been counted. */
    private double tokens(String direction) {
        var counter = meters.find("tokenbudget.tokens").tag("tokenbudget.budget", "key:meters")
                .tag("tokenbudget.direction", direction).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void adminApiIsServedFromPropertiesOnLoopbackBehindItsToken() throws Exception {
        assertThat(admin.uri().getHost()).isEqualTo("127.0.0.1");
        HttpClient http = HttpClient.newHttpClient();
        URI budgets = admin.uri().resolve("/v1/budgets");
        HttpResponse<String> ok = http.send(HttpRequest.newBuilder(budgets)
                .header("Authorization", "Bearer " + ADMIN_TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(budgets).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(json(ok.body().getBytes()).get("budgets").findValuesAsText("id")).contains("org", "team");
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

}
