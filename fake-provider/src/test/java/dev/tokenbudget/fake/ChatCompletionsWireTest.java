package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ChatCompletionsWireTest {

    private static FakeProvider fake;
    private static FakeClient client;

    @BeforeAll
    static void start() {
        fake = FakeProvider.start(0).pacer(StreamPacer.fixed(Duration.ZERO));
        client = new FakeClient(fake);
    }

    @AfterAll
    static void stop() {
        fake.close();
    }

    @BeforeEach
    void reset() {
        fake.clear();
    }

    private static final String PROMPT = "Summarise the budget report for the support copilot in two lines.";

    private static String request(String extra) {
        return "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":\"" + PROMPT + "\"}]" + extra + "}";
    }

    @Test
    void jsonCompletionEchoesModelAndCountsPromptWithTheRealTokenizer() {
        HttpResponse<String> r = client.post("/v1/chat/completions", request(""));

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode body = FakeClient.json(r.body());
        assertThat(body.get("object").asText()).isEqualTo("chat.completion");
        assertThat(body.get("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(body.get("id").asText()).startsWith("chatcmpl-");
        JsonNode choice = body.get("choices").get(0);
        assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        TokenCounter o200k = TokenCounter.forModel("gpt-4o-mini");
        long expectedPrompt = 3 + (3 + o200k.count("system") + o200k.count("Be brief."))
                + (3 + o200k.count("user") + o200k.count(PROMPT));
        JsonNode usage = body.get("usage");
        assertThat(usage.get("prompt_tokens").asLong()).isEqualTo(expectedPrompt);
        assertThat(usage.get("completion_tokens").asLong()).isEqualTo(FakeProvider.DEFAULT_REPLY_TOKENS);
        assertThat(usage.get("total_tokens").asLong()).isEqualTo(expectedPrompt + FakeProvider.DEFAULT_REPLY_TOKENS);
        assertThat(usage.get("prompt_tokens_details").get("cached_tokens").asLong()).isZero();
        assertThat(usage.get("completion_tokens_details").get("reasoning_tokens").asLong()).isZero();
        assertThat(fake.lastExchange().usage()).hasValue(new ReportedUsage(expectedPrompt, 48));
    }

    @Test
    void outputCeilingCutsTheAnswerWithFinishReasonLength() {
        JsonNode a = FakeClient.json(client.post("/v1/chat/completions", request(",\"max_tokens\":5")).body());
        JsonNode b = FakeClient.json(client.post("/v1/chat/completions",
                request(",\"max_completion_tokens\":7")).body());

        assertThat(a.get("usage").get("completion_tokens").asLong()).isEqualTo(5);
        assertThat(a.get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
        assertThat(b.get("usage").get("completion_tokens").asLong()).isEqualTo(7);
    }

    @Test
    void streamWithoutIncludeUsageCarriesNoUsageAtAll() {
        HttpResponse<String> r = client.post("/v1/chat/completions", request(",\"stream\":true"));

        assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("text/event-stream");
        List<String> data = SseEvents.parse(r.body()).data();
        assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode chunk = FakeClient.json(d);
            assertThat(chunk.get("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(chunk.has("usage")).as("usage key in %s", d).isFalse();
            assertThat(chunk.get("choices")).hasSize(1);
        }
        assertThat(FakeClient.json(data.get(0)).get("choices").get(0).get("delta").get("role").asText())
                .isEqualTo("assistant");
        assertThat(FakeClient.json(data.get(data.size() - 2)).get("choices").get(0).get("finish_reason").asText())
                .isEqualTo("stop");
        assertThat(fake.lastExchange().usage()).isEmpty();
        assertThat(FakeClient.eventually(() -> fake.lastExchange().completed())).isTrue();
    }

    @Test
    void streamWithIncludeUsageEndsWithAUsageChunkWithEmptyChoices() {
        String json = FakeClient.json(client.post("/v1/chat/completions", request("")).body())
                .get("choices").get(0).get("message").get("content").asText();
        HttpResponse<String> r = client.post("/v1/chat/completions",
                request(",\"stream\":true,\"stream_options\":{\"include_usage\":true}"));

        List<String> data = SseEvents.parse(r.body()).data();
        assertThat(data.get(data.size() - 1)).isEqualTo("[DONE]");
        JsonNode usageChunk = FakeClient.json(data.get(data.size() - 2));
        assertThat(usageChunk.get("choices")).isEmpty();
        assertThat(usageChunk.get("usage").get("completion_tokens").asLong()).isEqualTo(48);
        StringBuilder text = new StringBuilder();
        for (String d : data.subList(0, data.size() - 2)) {
            JsonNode chunk = FakeClient.json(d);
            assertThat(chunk.get("usage").isNull()).as("usage null in %s", d).isTrue();
            text.append(chunk.get("choices").get(0).get("delta").path("content").asText(""));
        }
        assertThat(text.toString()).isEqualTo(json);
        assertThat(fake.lastExchange().usage().orElseThrow().outputTokens()).isEqualTo(48);
    }

    @Test
    void requestsWithoutModelOrMessagesGetOpenAiShapedErrors() {
        HttpResponse<String> noModel = client.post("/v1/chat/completions", "{\"messages\":[]}");
        HttpResponse<String> noMessages = client.post("/v1/chat/completions", "{\"model\":\"gpt-4o\"}");
        HttpResponse<String> badCeiling = client.post("/v1/chat/completions", request(",\"max_tokens\":-3"));

        assertThat(noModel.statusCode()).isEqualTo(400);
        assertThat(FakeClient.json(noModel.body()).get("error").get("message").asText()).contains("model");
        assertThat(FakeClient.json(noMessages.body()).get("error").get("type").asText())
                .isEqualTo("invalid_request_error");
        assertThat(badCeiling.statusCode()).isEqualTo(400);
        assertThat(fake.exchanges()).allSatisfy(e -> assertThat(e.usage()).isEmpty());
    }
}
