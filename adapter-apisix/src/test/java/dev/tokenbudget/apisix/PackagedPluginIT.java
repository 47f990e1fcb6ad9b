package dev.tokenbudget.apisix;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped jar ({@code target/tokenbudget-apisix-plugin.jar}) in the runner users run: the
 * published 0.4.0 starter jar, started the way APISIX's {@code ext-plugin.cmd} starts it, with the
 * plugin jar on {@code -Dloader.path}. Proves the auto-configuration is found and the relocated
 * Jackson/SnakeYAML load an engine config next to the runner's own SnakeYAML 1.29. Requests through
 * this jar end to end, on a real APISIX: {@link RealApisixIT}.
 */
class PackagedPluginIT {

    private static RunnerProcess runner;

    @BeforeAll
    static void start() throws Exception {
        Path runnerJar = Path.of(System.getProperty("tokenbudget.apisix.runnerJar"));
        Path pluginJar = Path.of(System.getProperty("tokenbudget.apisix.pluginJar"));
        assertThat(runnerJar).exists();
        assertThat(pluginJar).exists();
        runner = RunnerProcess.start(runnerJar, pluginJar, Map.of(
                "TB_TEST_OPENAI_KEY", "sk-upstream-openai-test",
                "TB_TEST_ANTHROPIC_KEY", "sk-ant-upstream-test"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (runner != null) {
            runner.close();
        }
    }

    @Test
    void pluginFromTheShippedJarAnswersABadRouteConf() throws Exception {
        try (A6Client apisix = runner.client()) {
            long token = apisix.prepareConf("bad", List.of(Map.entry("TokenBudget", "{\"settle\": 1}")));
            A6Client.ReqCallAnswer a = apisix.httpReqCall(token, request());

            assertThat(a.status()).as(runner.log()).isEqualTo(500);
            assertThat(a.bodyText()).contains("config: is required").contains("settle: must be a string");
        }
    }

    @Test
    void relocatedJacksonLoadsTheEngineConfigBesideTheRunnersSnakeYaml() throws Exception {
        Path config = Path.of(PackagedPluginIT.class.getResource("/tokenbudget-apisix.yaml").toURI());
        try (A6Client apisix = runner.client()) {
            long token = apisix.prepareConf("good", List.of(Map.entry("TokenBudget",
                    "{\"config\": " + Json.quote(config.toString()) + "}")));
            A6Client.ReqCallAnswer a = apisix.httpReqCall(token, request());

            assertThat(a.errorCode()).as(runner.log()).isNull();
            assertThat(a.status()).as(runner.log()).isNotEqualTo(500);
            assertThat(runner.log()).doesNotContain("is invalid");
        }
    }

    private static A6Client.Request request() {
        return new A6Client.Request("POST", "/v1/chat/completions",
                Map.of("authorization", "Bearer sk-tb-apisix-support", "content-type", "application/json"),
                Map.of(), Map.of("request_id", "fedcba9876543210fedcba9876543210"),
                "{\"model\":\"gpt-4.1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
                        .getBytes(StandardCharsets.UTF_8));
    }

}
