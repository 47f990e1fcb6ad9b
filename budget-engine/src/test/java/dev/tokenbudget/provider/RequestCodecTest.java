package dev.tokenbudget.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What codecs read from requests and how they rewrite them. */
class RequestCodecTest {

    private static ObjectNode body(String json) {
        RequestJson.Parsed p = RequestJson.parse(json.getBytes(StandardCharsets.UTF_8));
        assertThat(p.problem()).isNull();
        return p.body();
    }

    private static String rewrite(Family f, Endpoint e, Provider p, String json, BodyChange c) {
        ObjectNode b = body(json);
        ProviderCodec.of(f).rewrite(e, p, b, c);
        return new String(RequestJson.write(b), StandardCharsets.UTF_8);
    }

    private static BodyChange clamp(long n) {
        return new BodyChange(null, n, Map.of(), false);
    }

    @Test
    void openAiChatPrefersMaxCompletionTokensAndMultipliesNothingItself() {
        RequestFacts f = ProviderCodec.of(Family.OPENAI).inspect(Endpoint.CHAT_COMPLETIONS,
                body("{\"model\":\"gpt-4.1\",\"max_tokens\":50,\"max_completion_tokens\":70,\"n\":3}"));
        assertThat(f.maxOutputTokens()).isEqualTo(70);
        assertThat(f.choices()).isEqualTo(3);
        assertThat(f.model()).isEqualTo("gpt-4.1");
    }

    @Test
    void legacyCompletionsChargeBestOfCandidates() {
        RequestFacts f = ProviderCodec.of(Family.OPENAI).inspect(Endpoint.COMPLETIONS,
                body("{\"model\":\"gpt-3.5-turbo-instruct\",\"prompt\":[1,2,3],\"max_tokens\":16,\"n\":2,"
                        + "\"best_of\":5}"));
        assertThat(f.choices()).isEqualTo(5);
        assertThat(f.prompt().tokenIds()).isEqualTo(3);
    }

    @Test
    void responsesReadMaxOutputTokensAndEmbeddingsProduceNoOutput() {
        assertThat(ProviderCodec.of(Family.OPENAI).inspect(Endpoint.RESPONSES,
                body("{\"model\":\"gpt-5\",\"input\":\"hi\",\"max_output_tokens\":900}")).maxOutputTokens())
                .isEqualTo(900);
        assertThat(ProviderCodec.of(Family.OPENAI).inspect(Endpoint.EMBEDDINGS,
                body("{\"model\":\"text-embedding-3-small\",\"input\":[\"a\",\"b\"]}")).maxOutputTokens()).isZero();
    }

    @Test
    void geminiCeilingAddsTheThinkingBudgetAndCountsCandidates() {
        RequestFacts f = ProviderCodec.of(Family.GEMINI).inspect(Endpoint.GENERATE_CONTENT,
                body("{\"contents\":[],\"generationConfig\":{\"maxOutputTokens\":500,\"candidateCount\":2,"
                        + "\"thinkingConfig\":{\"thinkingBudget\":1024}}}"));
        assertThat(f.maxOutputTokens()).isEqualTo(1524);
        assertThat(f.choices()).isEqualTo(2);
    }

    @Test
    void invalidFieldsAreProblemsNamingTheField() {
        ProviderCodec o = ProviderCodec.of(Family.OPENAI);
        assertThat(o.inspect(Endpoint.CHAT_COMPLETIONS, body("{\"model\":5}")).problem()).contains("'model'");
        assertThat(o.inspect(Endpoint.CHAT_COMPLETIONS, body("{\"stream\":\"yes\"}")).problem()).contains("'stream'");
        assertThat(o.inspect(Endpoint.CHAT_COMPLETIONS, body("{\"n\":0}")).problem()).contains("'n'");
        assertThat(o.inspect(Endpoint.CHAT_COMPLETIONS, body("{\"max_tokens\":NaN}".replace("NaN", "-1")))
                .problem()).contains("'max_tokens' must be >= 1");
        assertThat(ProviderCodec.of(Family.GEMINI).inspect(Endpoint.GENERATE_CONTENT,
                body("{\"generationConfig\":[]}")).problem()).contains("'generationConfig' must be an object");
    }

    @Test
    void hugeCeilingIsCappedNotOverflowed() {
        RequestFacts f = ProviderCodec.of(Family.ANTHROPIC).inspect(Endpoint.MESSAGES,
                body("{\"model\":\"claude\",\"max_tokens\":99999999999999999999999}"));
        assertThat(f.valid()).isTrue();
        assertThat(f.maxOutputTokens()).isEqualTo((1L << 53) - 1);
    }

    @Test
    void clampLowersThePresentFieldAndKeepsOrder() {
        String out = rewrite(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, Provider.OPENAI,
                "{\"max_tokens\":5000,\"model\":\"gpt-4.1\",\"messages\":[]}", clamp(256));
        assertThat(out).isEqualTo("{\"max_tokens\":256,\"model\":\"gpt-4.1\",\"messages\":[]}");
        String low = rewrite(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, Provider.OPENAI,
                "{\"max_tokens\":100}", clamp(256));
        assertThat(low).isEqualTo("{\"max_tokens\":100}");
    }

    @Test
    void clampAddsTheProvidersOwnFieldWhenAbsent() {
        assertThat(rewrite(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, Provider.OPENAI, "{}", clamp(64)))
                .isEqualTo("{\"max_completion_tokens\":64}");
        assertThat(rewrite(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, Provider.OPENAI_COMPATIBLE, "{}", clamp(64)))
                .isEqualTo("{\"max_tokens\":64}");
        assertThat(rewrite(Family.OPENAI, Endpoint.RESPONSES, Provider.OPENAI, "{}", clamp(64)))
                .isEqualTo("{\"max_output_tokens\":64}");
        assertThat(rewrite(Family.GEMINI, Endpoint.GENERATE_CONTENT, Provider.GEMINI,
                "{\"contents\":[],\"generationConfig\":{\"temperature\":0.2}}", clamp(64)))
                .isEqualTo("{\"contents\":[],\"generationConfig\":{\"temperature\":0.2,\"maxOutputTokens\":64}}");
    }

    @Test
    void swapsRegisteredSystemPromptsInEveryShape() {
        BodyChange swap = new BodyChange(null, -1, Map.of("LONG", "SHORT"), false);
        assertThat(rewrite(Family.ANTHROPIC, Endpoint.MESSAGES, Provider.ANTHROPIC,
                "{\"system\":[{\"type\":\"text\",\"text\":\"LONG\",\"cache_control\":{\"type\":\"ephemeral\"}}]}",
                swap)).isEqualTo("{\"system\":[{\"type\":\"text\",\"text\":\"SHORT\",\"cache_control\":"
                + "{\"type\":\"ephemeral\"}}]}");
        assertThat(rewrite(Family.ANTHROPIC, Endpoint.MESSAGES, Provider.ANTHROPIC, "{\"system\":\"LONG\"}", swap))
                .isEqualTo("{\"system\":\"SHORT\"}");
        assertThat(rewrite(Family.OPENAI, Endpoint.RESPONSES, Provider.OPENAI,
                "{\"instructions\":\"LONG\",\"input\":[{\"role\":\"developer\",\"content\":[{\"type\":\"input_text\","
                        + "\"text\":\"LONG\"}]}]}", swap))
                .isEqualTo("{\"instructions\":\"SHORT\",\"input\":[{\"role\":\"developer\",\"content\":"
                        + "[{\"type\":\"input_text\",\"text\":\"SHORT\"}]}]}");
        assertThat(rewrite(Family.GEMINI, Endpoint.GENERATE_CONTENT, Provider.GEMINI,
                "{\"systemInstruction\":{\"parts\":[{\"text\":\"LONG\"}]}}", swap))
                .isEqualTo("{\"systemInstruction\":{\"parts\":[{\"text\":\"SHORT\"}]}}");
        assertThat(rewrite(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, Provider.OPENAI,
                "{\"messages\":[{\"role\":\"user\",\"content\":\"LONG\"}]}", swap))
                .as("user messages are never swapped").contains("LONG");
    }

    @Test
    void addsIncludeUsageToAnExistingStreamOptionsObject() {
        assertThat(rewrite(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, Provider.OPENAI,
                "{\"stream\":true,\"stream_options\":{\"include_obfuscation\":false}}",
                new BodyChange(null, -1, Map.of(), true)))
                .isEqualTo("{\"stream\":true,\"stream_options\":{\"include_obfuscation\":false,"
                        + "\"include_usage\":true}}");
    }

    @Test
    void keepsNumbersStringsAndUnicodeAsSent() {
        String in = "{\"model\":\"gpt-4.1\",\"temperature\":0.70,\"seed\":12345678901234567890,"
                + "\"logit_bias\":{\"50256\":-100},\"messages\":[{\"role\":\"user\",\"content\":\"ü 你好 👋 \\\"q\\\"\"}]}";
        String out = rewrite(Family.OPENAI, Endpoint.CHAT_COMPLETIONS, Provider.OPENAI, in,
                new BodyChange("gpt-4.1-mini", -1, Map.of(), false));
        assertThat(out).isEqualTo(in.replace("gpt-4.1\"", "gpt-4.1-mini\""));
    }

    @Test
    void promptTextCountsMediaPartsInsteadOfTheirBase64() {
        String b64 = "A".repeat(200_000);
        PromptText p = PromptText.of(body("{\"model\":\"claude\",\"messages\":[{\"role\":\"user\",\"content\":["
                + "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"" + b64
                + "\"}},{\"type\":\"text\",\"text\":\"What is this?\"}]}]}"));
        assertThat(p.mediaParts()).isEqualTo(1);
        assertThat(p.text()).isEqualTo("What is this?");
        assertThat(p.messages()).isEqualTo(1);
        PromptText o = PromptText.of(body("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                + "\"image_url\":{\"url\":\"data:image/png;base64," + b64 + "\"}}]}]}"));
        assertThat(o.mediaParts()).isEqualTo(1);
        assertThat(o.text()).isEmpty();
    }

    @Test
    void requestJsonRejectsDuplicatesTrailingGarbageAndInvalidUtf8() {
        assertThat(RequestJson.parse("{\"a\":1,\"a\":2}".getBytes(StandardCharsets.UTF_8)).problem())
                .contains("Duplicate field 'a'");
        assertThat(RequestJson.parse("{\"a\":1} {}".getBytes(StandardCharsets.UTF_8)).problem()).isNotNull();
        assertThat(RequestJson.parse(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xFF, '"', '}'}).problem())
                .contains("not valid JSON");
        assertThat(RequestJson.parse("[1]".getBytes(StandardCharsets.UTF_8)).problem()).contains("JSON object");
        assertThat(RequestJson.parse(new byte[0]).problem()).contains("empty");
    }
}
