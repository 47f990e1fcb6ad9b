package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MessagesWireTest {

    private static FakeProvider fake;
    private static FakeClient client;

    @BeforeAll
    static void start() {
        fake = FakeProvider.start(0).pacer(StreamPacer.fixed(Duration.ZERO)).replyTokens(10).tokensPerChunk(3);
        client = new FakeClient(fake);
    }

    @AfterAll
    static void stop() {
        fake.close();
    }

    private static final String REQUEST = "{\"model\":\"claude-haiku-4-5\",\"max_tokens\":%d,\"system\":\"Be brief.\","
            + "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hello, Claude\"}]}]%s}";

    @Test
    void jsonMessageCarriesUsageWithCacheFields() {
        JsonNode m = FakeClient.json(client.post("/v1/messages", REQUEST.formatted(100, "")).body());

        assertThat(m.get("type").asText()).isEqualTo("message");
        assertThat(m.get("model").asText()).isEqualTo("claude-haiku-4-5");
        assertThat(m.get("id").asText()).startsWith("msg_");
        assertThat(m.get("content").get(0).get("type").asText()).isEqualTo("text");
        assertThat(m.get("stop_reason").asText()).isEqualTo("end_turn");
        JsonNode u = m.get("usage");
        assertThat(u.get("output_tokens").asLong()).isEqualTo(10);
        assertThat(u.get("input_tokens").asLong()).isPositive();
        assertThat(u.get("cache_creation_input_tokens").asLong()).isZero();
        assertThat(u.get("cache_read_input_tokens").asLong()).isZero();
    }

    @Test
    void streamFollowsTheDocumentedEventFlowWithCumulativeOutputUsage() {
        String body = client.post("/v1/messages", REQUEST.formatted(100, ",\"stream\":true")).body();

        SseEvents events = SseEvents.parse(body);
        assertThat(events.names()).containsExactly("message_start", "content_block_start", "ping",
                "content_block_delta", "content_block_delta", "content_block_delta", "content_block_delta",
                "content_block_stop", "message_delta", "message_stop");
        for (SseEvents.Event e : events.events()) {
            assertThat(FakeClient.json(e.data()).get("type").asText()).isEqualTo(e.name());
        }
        JsonNode start = FakeClient.json(events.data().get(0)).get("message");
        assertThat(start.get("content")).isEmpty();
        assertThat(start.get("usage").get("output_tokens").asLong()).isEqualTo(1);
        long input = start.get("usage").get("input_tokens").asLong();
        JsonNode delta = FakeClient.json(events.data().get(8));
        assertThat(delta.get("delta").get("stop_reason").asText()).isEqualTo("end_turn");
        assertThat(delta.get("usage").get("output_tokens").asLong()).isEqualTo(10);
        assertThat(fake.lastExchange().usage()).hasValue(new ReportedUsage(input, 10));
    }

    @Test
    void maxTokensCutsTheStreamWithStopReasonMaxTokens() {
        String body = client.post("/v1/messages", REQUEST.formatted(4, ",\"stream\":true")).body();

        List<String> data = SseEvents.parse(body).data();
        JsonNode delta = FakeClient.json(data.get(data.size() - 2));
        assertThat(delta.get("delta").get("stop_reason").asText()).isEqualTo("max_tokens");
        assertThat(delta.get("usage").get("output_tokens").asLong()).isEqualTo(4);
    }

    @Test
    void missingMaxTokensIsAnAnthropicShapedInvalidRequest() {
        HttpResponse<String> r = client.post("/v1/messages",
                "{\"model\":\"claude-haiku-4-5\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode e = FakeClient.json(r.body());
        assertThat(e.get("type").asText()).isEqualTo("error");
        assertThat(e.get("error").get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("error").get("message").asText()).contains("max_tokens");
    }
}
