package dev.tokenbudget.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.EngineFixture;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** System prompts registered in the engine's YAML ({@code prompts:}), so every host can swap them. */
class RegisteredPromptsTest {

    private static final String KEY = "sk-tb-prompts";
    private static final String LONG = "You are Acme's support assistant. Answer fully, with steps and links.";
    private static final String SHORT = "You are Acme's support assistant. Be brief.";

    private static String yaml(String prompts, String variants) {
        return """
                providers:
                  openai: { api_key_env: TB_OPENAI }
                %s
                budgets:
                  - id: support
                    windows: [{ period: day, limits: { total: 100 } }]
                    thresholds: [{ at: 1, policy: degrade_route }]
                    degrade:
                      prompt_variants: { %s }
                keys:
                  - { name: support, sha256: %s, budget: support }
                """.formatted(prompts, variants, EngineFixture.sha(KEY));
    }

    private static BudgetGateway gateway(String yaml, GatewayOptions.Builder options) {
        EngineFixture fx = new EngineFixture(yaml);
        return new BudgetGateway(fx.engine, options.environment(v -> "sk-upstream").build());
    }

    private static String sentSystemPrompt(BudgetGateway gw, String systemPrompt) throws Exception {
        String body = "{\"model\":\"gpt-4.1\",\"max_tokens\":10,\"messages\":[{\"role\":\"system\",\"content\":\""
                + systemPrompt + "\"},{\"role\":\"user\",\"content\":\"hi\"}]}";
        TestRequest req = TestRequest.post("/v1/chat/completions", "Authorization", "Bearer " + KEY);
        Admission a = gw.admit((Identified) gw.identify(req), body.getBytes(StandardCharsets.UTF_8));
        assertThat(a).isInstanceOf(Forward.class);
        Forward f = (Forward) a;
        assertThat(f.degraded()).isTrue();
        // a null body means the request goes upstream unchanged
        JsonNode sent = new ObjectMapper().readTree(f.body() == null ? body.getBytes(StandardCharsets.UTF_8) : f.body());
        f.meter().abort();
        return sent.at("/messages/0/content").asText();
    }

    @Test
    void promptsInTheConfigAreSwappedWithoutAnyHostRegistration() throws Exception {
        String prompts = "prompts:\n  support: \"" + LONG + "\"\n  support-short: |-\n    " + SHORT;
        BudgetGateway gw = gateway(yaml(prompts, "support: support-short"), GatewayOptions.custom());
        assertThat(sentSystemPrompt(gw, LONG)).isEqualTo(SHORT);
        assertThat(sentSystemPrompt(gw, "Some other prompt.")).isEqualTo("Some other prompt.");
    }

    @Test
    void configAndHostRegistrationsCombine() throws Exception {
        String prompts = "prompts:\n  support: \"" + LONG + "\"";
        BudgetGateway gw = gateway(yaml(prompts, "support: support-short"),
                GatewayOptions.custom().prompt("support-short", SHORT));
        assertThat(sentSystemPrompt(gw, LONG)).isEqualTo(SHORT);
    }

    @Test
    void aVariantNamingAnUnregisteredPromptFailsAtStartWithTheBudgetAndTheId() {
        String prompts = "prompts:\n  support: \"" + LONG + "\"";
        assertThatThrownBy(() -> gateway(yaml(prompts, "support: support-tiny"), GatewayOptions.custom()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("budget 'support'")
                .hasMessageContaining("prompt 'support-tiny'")
                .hasMessageContaining("prompts:")
                .hasMessageNotContaining("'support' is not registered");
    }

    @Test
    void oneIdRegisteredTwiceWithDifferentTextsIsRefused() {
        String prompts = "prompts:\n  support: \"" + LONG + "\"\n  support-short: \"" + SHORT + "\"";
        assertThatThrownBy(() -> gateway(yaml(prompts, "support: support-short"),
                GatewayOptions.custom().prompt("support", "Something else.")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("prompt 'support' is registered twice with different texts");
        // the same text twice is harmless
        gateway(yaml(prompts, "support: support-short"), GatewayOptions.custom().prompt("support", LONG));
    }

    @Test
    void emptyOrNonTextPromptsAreConfigErrorsWithTheirPath() {
        assertThatThrownBy(() -> ConfigLoader.parse(yaml("prompts:\n  support: \"\"", "")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("prompts.support")
                .hasMessageContaining("must not be empty");
        assertThatThrownBy(() -> ConfigLoader.parse(yaml("prompts: [support]", "")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("prompts");
    }
}
