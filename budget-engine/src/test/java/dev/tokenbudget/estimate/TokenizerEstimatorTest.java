package dev.tokenbudget.estimate;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.PromptText;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenizerEstimatorTest {

    private static final TokenizerEstimator EST = TokenizerEstimator.shared();
    private static final Encoding O200K = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.O200K_BASE);

    @Test
    void mapsCurrentModelsToTheirEncodings() {
        assertThat(TokenEncoding.forModel(Family.OPENAI, "gpt-4.1-mini-2025-04-14")).isEqualTo(TokenEncoding.O200K_BASE);
        assertThat(TokenEncoding.forModel(Family.OPENAI, "gpt-5")).isEqualTo(TokenEncoding.O200K_BASE);
        assertThat(TokenEncoding.forModel(Family.OPENAI, "o4-mini")).isEqualTo(TokenEncoding.O200K_BASE);
        assertThat(TokenEncoding.forModel(Family.OPENAI, "gpt-oss-120b")).isEqualTo(TokenEncoding.O200K_BASE);
        assertThat(TokenEncoding.forModel(Family.OPENAI, "ft:gpt-4o-mini:acme::abc")).isEqualTo(TokenEncoding.O200K_BASE);
        assertThat(TokenEncoding.forModel(Family.OPENAI, "gpt-4-turbo")).isEqualTo(TokenEncoding.CL100K_BASE);
        assertThat(TokenEncoding.forModel(Family.OPENAI, "gpt-3.5-turbo")).isEqualTo(TokenEncoding.CL100K_BASE);
        assertThat(TokenEncoding.forModel(Family.OPENAI, "llama-3.1-8b")).isEqualTo(TokenEncoding.NONE);
        assertThat(TokenEncoding.forModel(Family.ANTHROPIC, "gpt-4.1")).isEqualTo(TokenEncoding.NONE);
        assertThat(TokenEncoding.forModel(Family.OPENAI, null)).isEqualTo(TokenEncoding.NONE);
    }

    @Test
    void namesBeyondTheRememberedOnesAreStillMappedAndRepeatedNamesKeepTheirEncoding() {
        // more distinct names than the map keeps: the later ones are worked out on every call
        for (int i = 0; i < TokenEncoding.KNOWN_MAX + 50; i++) {
            assertThat(TokenEncoding.forModel(Family.OPENAI, "gpt-4o-variant-" + i)).isEqualTo(TokenEncoding.O200K_BASE);
            assertThat(TokenEncoding.forModel(Family.OPENAI, "gpt-4-variant-" + i)).isEqualTo(TokenEncoding.CL100K_BASE);
        }
        for (int round = 0; round < 3; round++) {
            assertThat(TokenEncoding.forModel(Family.OPENAI, " GPT-4.1 ")).isEqualTo(TokenEncoding.O200K_BASE);
            assertThat(TokenEncoding.forModel(Family.OPENAI, "openai/gpt-3.5-turbo")).isEqualTo(TokenEncoding.CL100K_BASE);
            assertThat(TokenEncoding.forModel(Family.GEMINI, "gpt-4o")).isEqualTo(TokenEncoding.NONE);
        }
    }

    @Test
    void shortPromptsAreCountedExactlyPlusFraming() {
        String text = "What is the capital of France? Answer in one word.";
        PromptText p = new PromptText(text, 2, 0, 0);
        assertThat(EST.inputTokens(Family.OPENAI, "gpt-4.1", p))
                .isEqualTo(O200K.countTokensOrdinary(text) + InputEstimator.overhead(p));
    }

    @Test
    void providersWithoutATokenizerGetTheProxyCountTimesTheirFactor() {
        String text = "Summarise the attached contract in three bullet points.";
        double o200k = O200K.countTokensOrdinary(text);
        assertThat(EST.textTokens(Family.ANTHROPIC, "claude-sonnet-4-5", text))
                .isEqualTo(o200k * TokenizerEstimator.ANTHROPIC_FACTOR);
        assertThat(EST.textTokens(Family.GEMINI, "gemini-2.5-pro", text))
                .isEqualTo(o200k * TokenizerEstimator.GEMINI_FACTOR);
    }

    @Test
    void longPromptsAreEstimatedWithinTheDocumentedErrorOfTheExactCount() throws IOException {
        // the project's own docs and sources: English prose and code, the common case
        int checked = 0;
        int under = 0;
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path f : files.filter(x -> x.toString().endsWith(".java")).sorted().toList()) {
                String text = Files.readString(f);
                if (text.length() < 3000) {
                    continue;
                }
                double exact = O200K.countTokensOrdinary(text);
                double est = EST.textTokens(Family.OPENAI, "gpt-4.1", text);
                assertThat(est / exact).as(f.toString()).isBetween(0.85, 1.5);
                checked++;
                if (est < exact) {
                    under++;
                }
            }
        }
        assertThat(checked).isGreaterThan(10);
        assertThat(under).as("the margin makes underestimates rare").isLessThanOrEqualTo(checked / 4);
    }

    @Test
    void mediaAndTokenIdsAreAddedAndEmptyTextCostsOnlyFraming() {
        PromptText p = new PromptText("", 1, 2, 7);
        assertThat(EST.inputTokens(Family.OPENAI, "gpt-4o", p)).isEqualTo(InputEstimator.REQUEST_TOKENS
                + InputEstimator.MESSAGE_TOKENS + 2 * InputEstimator.MEDIA_PART_TOKENS + 7);
    }

    @Test
    void specialTokenTextIsCountedAsOrdinaryTextNotRejected() {
        assertThat(EST.inputTokens(Family.OPENAI, "gpt-4.1", new PromptText("<|endoftext|> hi", 0, 0, 0)))
                .isPositive();
    }

    @Test
    void featureEstimateTracksScriptsThatTokenizeDenser() {
        double latin = TextFeatures.estimate(TextFeatures.of("a".repeat(10) + " "), TokenizerEstimator.O200K_WEIGHTS);
        double cjk = TextFeatures.estimate(TextFeatures.of("你".repeat(10)), TokenizerEstimator.O200K_WEIGHTS);
        assertThat(cjk).isGreaterThan(latin * 3);
    }

    @Test
    void rejectsAMarginThatWouldErrLow() {
        assertThatThrownBy(() -> TokenizerEstimator.create(100, 0.9)).hasMessageContaining("margin");
        assertThatThrownBy(() -> TokenizerEstimator.create(-1, 1.1)).hasMessageContaining("exactChars");
    }
}
