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

    /** A readable {@code .frames} fixture encoded into the binary stream Bedrock sends. */
    private static byte[] frames(String name) throws Exception {
        return dev.tokenbudget.provider.EventStreamFrames.encode(new ObjectMapper().readTree(
                PAYLOADS.resolve(name).toFile()));
    }

    @Test
    void readsSavedBedrockEventStreamsAndBodiesAndVertexResponses(@TempDir Path dir) throws Exception {
        // a ConverseStream saved as it came off the wire: binary frames with real checksums
        Path converse = dir.resolve("converse-stream.bin");
        Files.write(converse, frames("bedrock/converse-stream.frames"));
        assertThat(cli.run("usage", converse.toString())).isZero();
        JsonNode c = json();
        assertThat(c.get("provider").asText()).isEqualTo("bedrock");
        assertThat(c.get("input_tokens").asLong()).isEqualTo(230);
        assertThat(c.get("cached_input_tokens").asLong()).isEqualTo(200);
        assertThat(c.get("output_tokens").asLong()).isEqualTo(12);
        cli.clearOut();

        Path invoke = dir.resolve("invoke-stream.bin");
        Files.write(invoke, frames("bedrock/invoke-stream.frames"));
        assertThat(cli.run("usage", invoke.toString())).isZero();
        JsonNode i = json();
        assertThat(i.get("model").asText()).isEqualTo("claude-haiku-4-5-20251001");
        assertThat(i.get("input_tokens").asLong()).isEqualTo(122);
        assertThat(i.get("output_tokens").asLong()).isEqualTo(35);
        cli.clearOut();

        assertThat(cli.run("usage", PAYLOADS.resolve("bedrock/converse-cache.json").toString())).isZero();
        assertThat(json().get("input_tokens").asLong()).isEqualTo(1336);
        cli.clearOut();

        assertThat(cli.run("usage", PAYLOADS.resolve("vertex/generate-content.json").toString(), "--provider",
                "vertex")).isZero();
        assertThat(json().get("output_tokens").asLong()).isEqualTo(50);
        cli.clearOut();

        assertThat(cli.run("usage", PAYLOADS.resolve("vertex/stream-raw-predict.sse").toString())).isZero();
        assertThat(json().get("output_tokens").asLong()).isEqualTo(6);
        cli.clearOut();

        // a stream cut inside a frame: what was read, and why the rest is unknown
        byte[] whole = Files.readAllBytes(converse);
        Files.write(converse, java.util.Arrays.copyOf(whole, whole.length - 5));
        assertThat(cli.run("usage", converse.toString())).isZero();
        assertThat(json().get("input_tokens").isNull()).isTrue();
        assertThat(cli.err()).contains("usage unknown").contains("the stream ended inside frame 6");
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
        assertThat(cli.err()).contains("openai, anthropic, gemini, bedrock or vertex");
        assertThat(cli.run("usage", "does-not-exist.sse")).isEqualTo(1);
        assertThat(cli.err()).contains("cannot read does-not-exist.sse");
    }
}
