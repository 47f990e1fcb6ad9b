package dev.tokenbudget.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class UsageCommandTest {

    private static final Path PAYLOADS = Path.of("../budget-engine/src/test/resources/payloads");
    private final Terminal cli = new Terminal();

    private JsonNode json() throws Exception {
        assertThat(cli.out().lines()).hasSize(1);
        return new ObjectMapper().readTree(cli.out());
    }

    @Test
    void printsTheUsageOfAnAnthropicStreamDetectingFormatAndProvider() throws Exception {
        assertThat(cli.run("usage", PAYLOADS.resolve("anthropic/messages-stream.sse").toString())).isZero();
        JsonNode j = json();
        assertThat(j.get("provider").asText()).isEqualTo("anthropic");
        assertThat(j.get("model").asText()).isEqualTo("claude-opus-4-1-20250805");
        assertThat(j.get("input_tokens").asLong()).isEqualTo(125);
        assertThat(j.get("output_tokens").asLong()).isEqualTo(15);
        assertThat(j.get("cached_input_tokens").asLong()).isEqualTo(100);
        assertThat(j.get("reasoning_tokens").isNull()).isTrue();
        assertThat(j.fieldNames()).toIterable().containsExactly("provider", "model", "input_tokens",
                "output_tokens", "cached_input_tokens", "reasoning_tokens");
    }

    @Test
    void readsOpenAiJsonAndGeminiCrlfStreams() throws Exception {
        assertThat(cli.run("usage", PAYLOADS.resolve("openai/chat-reasoning.json").toString())).isZero();
        assertThat(json().get("reasoning_tokens").asLong()).isEqualTo(2240);
        cli.clearOut();
        assertThat(cli.run("usage", PAYLOADS.resolve("gemini/stream-generate-content.sse").toString(), "--provider",
                "gemini")).isZero();
        JsonNode g = json();
        assertThat(g.get("provider").asText()).isEqualTo("gemini");
        assertThat(g.get("output_tokens").asLong()).isEqualTo(117);
    }

    @Test
    void unknownUsageIsNullWithTheReasonOnStderr(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("cut.json");
        Files.writeString(f, "{\"model\":\"gpt-4.1\",\"usage\":{\"prompt_tokens\":-4,\"completion_tokens\":1}}");
        assertThat(cli.run("usage", f.toString())).isZero();
        JsonNode j = json();
        assertThat(j.get("input_tokens").isNull()).isTrue();
        assertThat(j.get("model").asText()).isEqualTo("gpt-4.1");
        assertThat(cli.err()).contains("usage unknown").contains("usage.prompt_tokens was -4");
    }

    @Test
    void rejectsAnUnknownProviderAndAMissingFile() {
        assertThat(cli.run("usage", "x.json", "--provider", "mistral")).isEqualTo(2);
        assertThat(cli.err()).contains("openai, anthropic or gemini");
        assertThat(cli.run("usage", "does-not-exist.sse")).isEqualTo(1);
        assertThat(cli.err()).contains("cannot read does-not-exist.sse");
    }
}
