package dev.tokenbudget.alert.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.alert.Alert;
import dev.tokenbudget.alert.Alerts;
import dev.tokenbudget.alert.LoopbackHttpServer;
import dev.tokenbudget.alert.SinkResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Slack, PagerDuty and the generic webhook against a real HTTP server on loopback. */
class HttpSinksTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private LoopbackHttpServer server;

    @BeforeEach
    void start() throws Exception {
        server = new LoopbackHttpServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private JsonNode body(int i) throws Exception {
        return JSON.readTree(server.received().get(i).body());
    }

    @Test
    void slackGetsABlockKitMessage() throws Exception {
        SlackSink slack = new SlackSink("slack", server.uri("/services/T0/B0/secret"), TIMEOUT);
        assertThat(slack.export(Alerts.threshold(90))).isEqualTo(SinkResult.SUCCESS);
        LoopbackHttpServer.Received r = server.received().get(0);
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.path()).isEqualTo("/services/T0/B0/secret");
        assertThat(r.header("Content-Type")).startsWith("application/json");
        JsonNode m = body(0);
        assertThat(m.get("text").asText()).isEqualTo("Budget support reached 90% of its total limit in month:2026-11");
        JsonNode blocks = m.get("blocks");
        assertThat(blocks).extracting(b -> b.get("type").asText())
                .containsExactly("header", "section", "section", "section", "context");
        assertThat(blocks.get(0).get("text").get("type").asText()).isEqualTo("plain_text");
        assertThat(blocks.get(0).get("text").get("text").asText()).contains("support at 90% of its total limit")
                .hasSizeLessThanOrEqualTo(150);
        JsonNode fields = blocks.get(2).get("fields");
        assertThat(fields).hasSize(6).allSatisfy(f -> assertThat(f.get("type").asText()).isEqualTo("mrkdwn"));
        assertThat(fields.get(0).get("text").asText()).isEqualTo("*Used*\n45.00M of 50.00M total tokens (90.0%)");
        assertThat(fields.get(2).get("text").asText()).isEqualTo(
                "*Projected end of window*\n61.00M (80%: 57.00M to 65.00M; 95%: 55.00M to 68.00M)");
        assertThat(fields.get(3).get("text").asText()).isEqualTo("*Limit reached*\n2026-11-23 08:00 UTC");
        assertThat(fields.get(4).get("text").asText()).isEqualTo("*Trend*\n+13% against the previous 7 days");
        assertThat(blocks.get(3).get("text").get("text").asText())
                .isEqualTo("*Recommended action*\nRaise the limit or cut usage.");
    }

    @Test
    void slackDoesNotPostResolutionsAndClassifiesAnswers() {
        SlackSink slack = new SlackSink("slack", server.uri("/hook"), TIMEOUT);
        assertThat(slack.export(Alerts.resolved())).isEqualTo(SinkResult.SUCCESS);
        assertThat(server.received()).isEmpty();
        server.answer(500, "oops");
        assertThat(slack.export(Alerts.threshold(75))).isEqualTo(SinkResult.RETRY);
        server.answer(429, "rate_limited");
        assertThat(slack.export(Alerts.threshold(75))).isEqualTo(SinkResult.RETRY);
        server.answer(404, "no_service");
        assertThat(slack.export(Alerts.threshold(75))).isEqualTo(SinkResult.FAILED);
    }

    @Test
    void pagerDutyTriggersWithTheWindowsDedupKeyAndResolvesIt() throws Exception {
        server.answer(202, "{\"status\":\"success\",\"message\":\"Event processed\"}");
        PagerDutySink pd = new PagerDutySink("pagerduty", server.uri("/v2/enqueue"), "R0UT1NGKEY", TIMEOUT);
        assertThat(pd.export(Alerts.threshold(100))).isEqualTo(SinkResult.SUCCESS);
        assertThat(pd.export(Alerts.resolved())).isEqualTo(SinkResult.SUCCESS);
        assertThat(server.received()).extracting(LoopbackHttpServer.Received::path)
                .containsExactly("/v2/enqueue", "/v2/enqueue");
        JsonNode t = body(0);
        assertThat(fieldNames(t)).containsExactlyInAnyOrder("routing_key", "event_action", "dedup_key", "payload");
        assertThat(t.get("routing_key").asText()).isEqualTo("R0UT1NGKEY");
        assertThat(t.get("event_action").asText()).isEqualTo("trigger");
        assertThat(t.get("dedup_key").asText()).isEqualTo("tokenbudget/support/month:2026-11");
        JsonNode p = t.get("payload");
        assertThat(p.get("summary").asText()).isEqualTo("Budget support reached 100% of its total limit in month:2026-11");
        assertThat(p.get("source").asText()).isEqualTo("tokenbudget");
        assertThat(p.get("severity").asText()).isEqualTo("critical");
        assertThat(p.get("timestamp").asText()).isEqualTo("2026-11-20T10:15:30Z");
        assertThat(p.get("component").asText()).isEqualTo("support");
        assertThat(p.get("group").asText()).isEqualTo("month:2026-11");
        assertThat(p.get("class").asText()).isEqualTo("threshold");
        assertThat(p.get("custom_details").get("projection").get("upper80").asLong()).isEqualTo(65_000_000);
        JsonNode r = body(1);
        assertThat(fieldNames(r)).containsExactlyInAnyOrder("routing_key", "event_action", "dedup_key");
        assertThat(r.get("event_action").asText()).isEqualTo("resolve");
        assertThat(r.get("dedup_key").asText()).isEqualTo("tokenbudget/support/month:2026-11");
        server.answer(400, "{\"status\":\"invalid event\"}");
        assertThat(pd.export(Alerts.threshold(75))).isEqualTo(SinkResult.FAILED);
    }

    @Test
    void webhookSignsTimestampAndBodyWithHmacSha256() throws Exception {
        byte[] secret = "0123456789abcdef-webhook-secret".getBytes(StandardCharsets.UTF_8);
        long now = 1_795_000_000L;
        WebhookSink hook = new WebhookSink("webhook", server.uri("/alerts"), secret, TIMEOUT, () -> now);
        assertThat(hook.export(Alerts.threshold(90))).isEqualTo(SinkResult.SUCCESS);
        LoopbackHttpServer.Received r = server.received().get(0);
        String body = r.body();
        assertThat(r.header("X-TokenBudget-Timestamp")).isEqualTo(Long.toString(now));
        assertThat(r.header("X-TokenBudget-Delivery")).isEqualTo(Alerts.threshold(90).id());
        // computed here independently of the sink's code
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        String expected = "v1=" + HexFormat.of().formatHex(mac.doFinal((now + "." + body)
                .getBytes(StandardCharsets.UTF_8)));
        assertThat(r.header("X-TokenBudget-Signature")).isEqualTo(expected);
        JsonNode j = JSON.readTree(body);
        assertThat(j.get("budget").asText()).isEqualTo("support");
        assertThat(j.get("used").asLong()).isEqualTo(45_000_000);
        assertThat(j.get("limit").asLong()).isEqualTo(50_000_000);
        assertThat(j.get("percent").asDouble()).isEqualTo(90.0);
        assertThat(j.get("exhaustion").asText()).isEqualTo("2026-11-23T08:00:00Z");
        assertThat(j.get("trend_percent").asDouble()).isEqualTo(12.5);
        assertThat(j.get("action").asText()).isEqualTo("Raise the limit or cut usage.");

        Instant received = Instant.ofEpochSecond(now + 30);
        Duration tol = WebhookSignature.DEFAULT_TOLERANCE;
        String ts = r.header("X-TokenBudget-Timestamp");
        String sig = r.header("X-TokenBudget-Signature");
        assertThat(WebhookSignature.verify(secret, ts, sig, body, received, tol)).isTrue();
        assertThat(WebhookSignature.verify(secret, ts, sig, body.replace("45000000", "1"), received, tol)).isFalse();
        assertThat(WebhookSignature.verify(secret, Long.toString(now + 1), sig, body, received, tol)).isFalse();
        assertThat(WebhookSignature.verify("another-secret-entirely".getBytes(StandardCharsets.UTF_8), ts, sig, body,
                received, tol)).isFalse();
        // a replay after the tolerance is refused even with a valid signature
        assertThat(WebhookSignature.verify(secret, ts, sig, body, Instant.ofEpochSecond(now + 301), tol)).isFalse();
        assertThat(WebhookSignature.verify(secret, ts, "v1=zz", body, received, tol)).isFalse();
    }

    @Test
    void aServerThatIsGoneIsARetry() {
        java.net.URI gone = server.uri("/x");
        server.close();
        assertThat(new WebhookSink("webhook", gone, new byte[32], Duration.ofSeconds(2)).export(Alerts.threshold(75)))
                .isEqualTo(SinkResult.RETRY);
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
