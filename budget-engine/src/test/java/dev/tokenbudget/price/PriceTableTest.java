package dev.tokenbudget.price;

import dev.tokenbudget.config.ModelPrice;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class PriceTableTest {

    @Test
    void datedSnapshotsArePricedAsTheirModelButNotAsAShorterFamily() {
        PriceTable t = PriceTable.ofDefaults();
        assertThat(t.forModel("gpt-4.1-2025-04-14")).contains(t.entries().get("gpt-4.1"));
        assertThat(t.forModel("gpt-4.1-mini-2025-04-14")).contains(t.entries().get("gpt-4.1-mini"));
        assertThat(t.forModel("claude-sonnet-4-5-20250929")).contains(t.entries().get("claude-sonnet-4-5"));
        assertThat(t.forModel("gpt-4")).isEmpty();
        assertThat(t.forModel("gpt-4.10")).isEmpty();
        assertThat(t.forModel("openai/gpt-4o")).contains(t.entries().get("gpt-4o"));
        assertThat(t.forModel(null)).isEmpty();
    }

    @Test
    void knowsItsEntriesTheirSnapshotsAndRouterNamesButNotEveryNameItCouldPrice() {
        PriceTable t = PriceTable.of(Map.of("my-llama", new ModelPrice(0.1, 0.1, 0.1)));
        assertThat(t.knows("claude-opus-4-7")).isTrue();
        assertThat(t.knows("GPT-4.1-Mini")).isTrue();
        assertThat(t.knows("gpt-4.1-mini-2025-04-14")).isTrue();
        assertThat(t.knows("claude-haiku-4-5-20251001")).isTrue();
        assertThat(t.knows("gemini-2.5-flash-001")).isTrue();
        assertThat(t.knows("claude-3-5-haiku-latest")).isTrue();
        assertThat(t.knows("openai/gpt-4o-mini")).isTrue();
        assertThat(t.knows("my-llama")).isTrue();
        // forModel prices these by their family; as names to send they are not models of the table
        assertThat(t.forModel("gpt-4o-minni")).isPresent();
        assertThat(t.knows("gpt-4o-minni")).isFalse();
        assertThat(t.knows("my-llama-70b")).isFalse();
        assertThat(t.knows("gpt-4.1-2025")).isFalse();
        assertThat(t.knows("")).isFalse();
        assertThat(t.knows(null)).isFalse();
    }

    @Test
    void bedrockIdsAndInferenceProfilesOfClaudeArePricedAndKnownAsTheirAnthropicName() {
        PriceTable t = PriceTable.ofDefaults();
        ModelPrice haiku = t.entries().get("claude-haiku-4-5");
        for (String id : new String[] {"anthropic.claude-haiku-4-5-20251001-v1:0", "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "global.anthropic.claude-haiku-4-5-20251001-v1:0", "us-gov.anthropic.claude-haiku-4-5-20251001-v1:0",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0",
            "claude-haiku-4-5@20251001"}) {
            assertThat(t.forModel(id)).as(id).contains(haiku);
            assertThat(t.knows(id)).as(id).isTrue();
        }
        assertThat(t.forModel("us.anthropic.claude-opus-4-1-20250805-v1:0")).contains(t.entries().get("claude-opus-4-1"));
        assertThat(t.knows("us.anthropic.claude-haiku-4-5-typo-v1:0")).isFalse();
        assertThat(t.forModel("meta.llama3-70b-instruct-v1:0")).isEmpty();
    }

    @Test
    void configPricesReplaceDefaultsAndAddModels() {
        PriceTable t = PriceTable.of(Map.of("gpt-4.1", new ModelPrice(1, 2, 0.5), "my-llama", new ModelPrice(0.1,
                0.1, 0.1)));
        assertThat(t.forModel("gpt-4.1").orElseThrow().input()).isEqualTo(1);
        assertThat(t.forModel("my-llama-70b").orElseThrow().output()).isEqualTo(0.1);
        assertThat(t.forModel("gpt-4o").orElseThrow().input()).isEqualTo(2.5);
    }

    @Test
    void costPricesCachedInputAtItsOwnRate() {
        PriceTable t = PriceTable.of(Map.of("m", new ModelPrice(2, 8, 0.5)));
        double c = t.cost("m", new TokenUsage(1_000_000, 500_000, 400_000, 0)).orElseThrow();
        assertThat(c).isCloseTo(0.6 * 2 + 0.4 * 0.5 + 0.5 * 8, within(1e-9));
        assertThat(t.cost("unknown", TokenUsage.of(1, 1))).isEmpty();
    }
}
