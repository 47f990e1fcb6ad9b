package dev.tokenbudget.quickstart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.fake.FakeProvider;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Starts the quickstart as bin/quickstart does, on random ports, and sends real requests through it. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "quickstart.admin.port=0")
class QuickstartApplicationTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}";

    @LocalServerPort
    int port;

    @Autowired
    FakeProvider fake;

    @Autowired
    StartupReport report;

    @Autowired
    dev.tokenbudget.console.admin.AdminServer admin;

    @Test
    void servesTheAdminApiAndDashboardBesideTheGatewayBehindAToken() throws Exception {
        HttpResponse<String> api = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port()
                + "/v1/budgets")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(api.statusCode()).isEqualTo(401);
        assertThat(json(api.body()).has("error")).isTrue();
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port()
                + "/")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<html");
    }

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> post(String path, String keyHeader, String key, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header(keyHeader, keyHeader.equals("Authorization") ? "Bearer " + key : key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(String s) throws IOException {
        return JSON.readTree(s);
    }

    @Test
    void aChatRequestWithTheDemoKeyReachesTheBundledFakeAndComesBackMetered() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", "Authorization", "demo-key", CHAT);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json(r.body()).get("model").asText()).isEqualTo("gpt-4o");
        assertThat(json(r.body()).get("usage").get("completion_tokens").asInt()).isEqualTo(400);
        assertThat(r.headers().firstValue("x-tokenbudget-decision")).hasValue("allow");
        assertThat(r.headers().firstValue("x-tokenbudget-remaining-tokens")).isPresent();
        assertThat(fake.lastExchange().request().header("authorization")).isEqualTo("Bearer fake-upstream-key");
    }

    @Test
    void theAnthropicRouteStreamsMessages() throws Exception {
        HttpResponse<String> r = post("/v1/messages", "x-api-key", "demo-key",
                "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":20,\"stream\":true,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("text/event-stream");
        assertThat(r.body()).startsWith("event: message_start").contains("event: message_stop");
    }

    @Test
    void anUnknownKeyIsRefused() throws Exception {
        assertThat(post("/v1/chat/completions", "Authorization", "not-a-demo-key", CHAT).statusCode())
                .isEqualTo(401);
    }

    @Test
    void demoHardStopRunsOutAt20000TokensAndAnswers429WithRetryAfter() throws Exception {
        HttpResponse<String> r = null;
        int ok = 0;
        for (int i = 0; i < 100; i++) {
            r = post("/v1/chat/completions", "Authorization", "demo-hard-stop", CHAT);
            if (r.statusCode() != 200) {
                break;
            }
            ok++;
        }

        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(ok).isBetween(10, 60);
        long retryAfter = Long.parseLong(r.headers().firstValue("retry-after").orElseThrow());
        assertThat(retryAfter).isBetween(1L, 86_400L);
        assertThat(json(r.body()).get("error").get("message").asText()).contains("hard-stop");
    }

    @Test
    void aRequestLargerThanTheDemoKeysWholeDayGetsAFinal400WithoutRetryAfter() throws Exception {
        // docs/quickstart.md: 2,000,000 output tokens against playground's 1M a day
        HttpResponse<String> r = post("/v1/chat/completions", "Authorization", "demo-key",
                CHAT.replace("{\"model\":\"gpt-4o\",", "{\"model\":\"gpt-4o\",\"max_tokens\":2000000,"));

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.headers().firstValue("retry-after")).isEmpty();
        JsonNode error = json(r.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("request_exceeds_budget_limit");
        assertThat(error.get("message").asText())
                .contains("budget 'playground'", "at most 1000000 total tokens per day");
    }

    @Test
    void demoDegradeSwitchesToTheCheaperModelInsteadOfStopping() throws Exception {
        HttpResponse<String> r = null;
        for (int i = 0; i < 100; i++) {
            r = post("/v1/chat/completions", "Authorization", "demo-degrade", CHAT);
            assertThat(r.statusCode()).isEqualTo(200);
            if (r.headers().firstValue("x-tokenbudget-decision").orElse("").equals("degrade")) {
                break;
            }
        }

        assertThat(r.headers().firstValue("x-tokenbudget-decision")).hasValue("degrade");
        assertThat(json(fake.lastExchange().request().bodyText()).get("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(json(r.body()).get("model").asText()).isEqualTo("gpt-4o-mini");
    }

    @Test
    void startUpPrintsTheUrlsAndACurlLineToTry() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        report.print(new PrintStream(b, true, StandardCharsets.UTF_8));
        String printed = b.toString(StandardCharsets.UTF_8);

        assertThat(printed).contains("http://127.0.0.1:" + port).contains("bundled fake provider " + fake.baseUrl())
                .contains("curl -s http://127.0.0.1:" + port + "/v1/chat/completions")
                .contains("demo-hard-stop").contains("keys, memory store)");
    }

    @Test
    void theStoreLineSaysWhenRedisDecidesInTokenBlocks() {
        StoreSettings redis = new StoreSettings("redis", "redis://127.0.0.1:6379", false, Duration.ofSeconds(1), "tb");
        assertThat(StartupReport.store(redis)).isEqualTo("redis store");
        assertThat(StartupReport.store(redis.withBlocks(BlockSettings.of(64, 0.1, Duration.ofSeconds(1)))))
                .isEqualTo("redis store in token blocks of up to 64 requests");
    }
}
