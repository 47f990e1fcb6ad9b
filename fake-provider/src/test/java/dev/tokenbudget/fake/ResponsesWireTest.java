package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ResponsesWireTest {

    private static FakeProvider fake;
    private static FakeClient client;

    @BeforeAll
    static void start() {
        fake = FakeProvider.start(0).pacer(StreamPacer.fixed(Duration.ZERO)).tokensPerChunk(4).replyTokens(20);
        client = new FakeClient(fake);
    }

    @AfterAll
    static void stop() {
        fake.close();
    }

    @Test
    void jsonResponseCarriesOutputTextAndUsage() {
        JsonNode r = FakeClient.json(client.post("/v1/responses",
                "{\"model\":\"gpt-4.1\",\"instructions\":\"Be brief.\",\"input\":\"Hello there\"}").body());

        assertThat(r.get("object").asText()).isEqualTo("response");
        assertThat(r.get("status").asText()).isEqualTo("completed");
        assertThat(r.get("model").asText()).isEqualTo("gpt-4.1");
        JsonNode item = r.get("output").get(0);
        assertThat(item.get("type").asText()).isEqualTo("message");
        assertThat(item.get("content").get(0).get("type").asText()).isEqualTo("output_text");
        JsonNode u = r.get("usage");
        assertThat(u.get("output_tokens").asLong()).isEqualTo(20);
        assertThat(u.get("total_tokens").asLong()).isEqualTo(u.get("input_tokens").asLong() + 20);
        assertThat(u.get("input_tokens_details").get("cached_tokens").asLong()).isZero();
        assertThat(u.get("output_tokens_details").get("reasoning_tokens").asLong()).isZero();
        assertThat(fake.lastExchange().usage()).hasValue(new ReportedUsage(u.get("input_tokens").asLong(), 20));
    }

    @Test
    void maxOutputTokensMakesTheResponseIncomplete() {
        JsonNode r = FakeClient.json(client.post("/v1/responses",
                "{\"model\":\"gpt-4.1\",\"input\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_output_tokens\":3}")
                .body());

        assertThat(r.get("status").asText()).isEqualTo("incomplete");
        assertThat(r.get("incomplete_details").get("reason").asText()).isEqualTo("max_output_tokens");
        assertThat(r.get("usage").get("output_tokens").asLong()).isEqualTo(3);
    }

    @Test
    void streamEmitsTheDocumentedEventSequenceWithUsageOnlyAtTheEnd() {
        String body = client.post("/v1/responses", "{\"model\":\"gpt-4.1\",\"input\":\"Hello\",\"stream\":true}")
                .body();

        SseEvents events = SseEvents.parse(body);
        List<String> expected = new ArrayList<>(List.of("response.created", "response.in_progress",
                "response.output_item.added", "response.content_part.added"));
        for (int i = 0; i < 5; i++) {
            expected.add("response.output_text.delta");
        }
        expected.addAll(List.of("response.output_text.done", "response.content_part.done",
                "response.output_item.done", "response.completed"));
        assertThat(events.names()).containsExactlyElementsOf(expected);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < events.events().size(); i++) {
            JsonNode e = FakeClient.json(events.events().get(i).data());
            assertThat(e.get("type").asText()).isEqualTo(events.events().get(i).name());
            assertThat(e.get("sequence_number").asInt()).isEqualTo(i);
            if (e.get("type").asText().equals("response.output_text.delta")) {
                text.append(e.get("delta").asText());
            }
        }
        JsonNode created = FakeClient.json(events.data().get(0)).get("response");
        assertThat(created.get("status").asText()).isEqualTo("in_progress");
        assertThat(created.get("usage").isNull()).isTrue();
        JsonNode completed = FakeClient.json(events.data().get(events.data().size() - 1)).get("response");
        assertThat(completed.get("status").asText()).isEqualTo("completed");
        assertThat(completed.get("usage").get("output_tokens").asLong()).isEqualTo(20);
        assertThat(completed.get("output").get(0).get("content").get(0).get("text").asText())
                .isEqualTo(text.toString());
        assertThat(body).doesNotContain("[DONE]");
    }

    @Test
    void truncatedStreamEndsWithResponseIncomplete() {
        String body = client.post("/v1/responses",
                "{\"model\":\"gpt-4.1\",\"input\":\"Hello\",\"stream\":true,\"max_output_tokens\":2}").body();

        List<String> names = SseEvents.parse(body).names();
        assertThat(names.get(names.size() - 1)).isEqualTo("response.incomplete");
        assertThat(fake.lastExchange().usage().orElseThrow().outputTokens()).isEqualTo(2);
    }
}
