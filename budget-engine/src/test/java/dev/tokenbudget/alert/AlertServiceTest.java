package dev.tokenbudget.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.alert.sink.SlackSink;
import dev.tokenbudget.alert.sink.WebhookSink;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.time.ManualClock;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The service end to end: engine events to real sinks on loopback, off the request path. */
class AlertServiceTest {

    private static final String CONFIG = """
            budgets:
              - id: support
                windows: [ { period: month, zone: UTC, limits: { total: 100k } } ]
            keys:
              - { name: k, sha256: %s, budget: support }
            alerts:
              delivery: { max_attempts: 3, initial_backoff: 1ms, max_backoff: 2ms, timeout: 60s }
            """.formatted(KeyHash.of("k1"));

    @Test
    void sinksThatHangOrFailNeverDelayRequestsAndTheWebhookStillGetsEveryAlert() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-11-03T10:00:00Z"));
        BudgetEngine engine = BudgetEngine.builder(ConfigLoader.parse(CONFIG)).clock(clock).build();
        try (LoopbackHttpServer hanging = new LoopbackHttpServer().hang();
             LoopbackHttpServer failing = new LoopbackHttpServer().answer(500, "down");
             LoopbackHttpServer webhook = new LoopbackHttpServer()) {
            List<AlertSink> sinks = List.of(
                    new SlackSink("slack-hangs", hanging.uri("/hook"), Duration.ofSeconds(60)),
                    new WebhookSink("webhook-500", failing.uri("/a"), new byte[32], Duration.ofSeconds(5)),
                    new WebhookSink("webhook", webhook.uri("/b"), new byte[32], Duration.ofSeconds(5)));
            AlertService service = AlertService.start(engine, new InMemoryAlertClaims(), sinks);
            VirtualKey key = engine.authenticate("k1").orElseThrow();
            // 100 requests of 1000 tokens cross 75, 90 and 100%; while the Slack server holds its
            // first request, every request is still served (the test would hang otherwise)
            int served = 0;
            for (int i = 0; i < 100; i++) {
                Ticket t = engine.reserve(new BudgetRequest(key, null, null, "m", 500, 500));
                if (t.decision().admitted()) {
                    engine.settle(t, TokenUsage.of(500, 500));
                    served++;
                }
            }
            assertThat(served).isEqualTo(100);
            assertThat(webhook.awaitRequests(3)).isTrue();
            assertThat(hanging.awaitRequests(1)).isTrue();
            assertThat(hanging.received()).hasSize(1); // still held
            ObjectMapper json = new ObjectMapper();
            List<Integer> thresholds = webhook.received().stream().map(r -> {
                try {
                    JsonNode n = json.readTree(r.body());
                    return n.get("threshold").asInt();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).toList();
            assertThat(thresholds).containsExactlyInAnyOrder(75, 90, 100);
            assertThat(failing.awaitRequests(9)).isTrue(); // 3 alerts x 3 attempts
            hanging.release();
            assertThat(service.flush(Duration.ofSeconds(60))).isTrue();
            List<AlertDispatcher.SinkStats> stats = service.dispatcher().stats();
            assertThat(stats.get(0).delivered()).isEqualTo(3);
            assertThat(stats.get(1).failed()).isEqualTo(3);
            assertThat(stats.get(1).retries()).isEqualTo(6);
            assertThat(stats.get(2).delivered()).isEqualTo(3);
            assertThat(service.raised()).isEqualTo(3);
            assertThat(service.droppedEvents()).isZero();
            service.close();
        }
    }
}
