package dev.tokenbudget.apisix;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.store.redis.TestRedis;
import io.github.api7.A6.ExtraInfo.Info;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A route whose TokenBudget conf is unusable is answered 500 with the reason, never forwarded unbudgeted. */
class RouteConfErrorsTest {

    private A6Client apisix;

    @BeforeEach
    void connect() {
        apisix = SharedRunner.get().client();
    }

    @AfterEach
    void close() throws Exception {
        apisix.close();
    }

    private A6Client.ReqCallAnswer call(String filterName, String confValue) throws Exception {
        long token = apisix.prepareConf("route-" + confValue.hashCode(), List.of(Map.entry(filterName, confValue)));
        return apisix.httpReqCall(token, new A6Client.Request("POST", "/v1/chat/completions",
                Map.of("authorization", "Bearer sk-tb-apisix-support", "content-type", "application/json"),
                Map.of(), Map.of("request_id", "0123456789abcdef0123456789abcdef"),
                "{\"model\":\"gpt-4.1\",\"messages\":[]}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void confThatIsNotJsonIsAnswered500NamingTheProblem() throws Exception {
        A6Client.ReqCallAnswer a = call("TokenBudget", "{\"config\": \"/etc/tb.yaml\",");

        assertThat(a.stopped()).isTrue();
        assertThat(a.status()).isEqualTo(500);
        assertThat(a.stopHeader("content-type")).isEqualTo("application/json");
        assertThat(a.bodyText()).contains("tokenbudget_misconfigured").contains("not valid JSON");
    }

    @Test
    void everyBadFieldIsNamed() throws Exception {
        A6Client.ReqCallAnswer a = call("TokenBudget",
                "{\"config\": \"relative.yaml\", \"settle\": \"later\", \"provider\": \"acme\", \"colour\": 1}");

        assertThat(a.status()).isEqualTo(500);
        assertThat(a.bodyText())
                .contains("config: must be an absolute path")
                .contains("settle: must be \\\"response\\\" or \\\"estimate\\\", was \\\"later\\\"")
                .contains("provider: must be one of")
                .contains("colour: unknown field");
    }

    @Test
    void missingEngineConfigIsAnswered500WithoutShowingServerPaths() throws Exception {
        A6Client.ReqCallAnswer a = call("TokenBudget", "{\"config\": \"/nonexistent/tokenbudget-apisix-test.yaml\"}");

        assertThat(a.status()).isEqualTo(500);
        assertThat(a.bodyText()).contains("engine config of this route could not be loaded")
                .doesNotContain("/nonexistent");
    }

    @Test
    void engineConfigOnRedisChargesTheSharedStore(@TempDir Path dir) throws Exception {
        String prefix = TestRedis.uniquePrefix("apisix");
        Path config = dir.resolve("redis.yaml");
        String yaml = "store: { type: redis, redis: { uri: \"" + TestRedis.uri() + "\", key_prefix: " + prefix
                + ", timeout: 2s } }\n" + new String(FakeUpstream.resource("/tokenbudget-apisix.yaml"),
                StandardCharsets.UTF_8);
        Files.writeString(config, yaml);
        try {
            A6Client.ReqCallAnswer a = call("TokenBudget", "{\"config\": " + Json.quote(config.toString()) + "}");
            assertThat(a.status()).as(a.bodyText()).isNotEqualTo(500);
            // another engine on the same Redis (another gateway, another process) sees the reservation
            try (BudgetEngine other = BudgetEngine.builder(ConfigLoader.parse(yaml)).build()) {
                assertThat(other.status().stream().mapToLong(s -> s.windows().get(0).reserved().total()).sum())
                        .isPositive();
            }
        } finally {
            TestRedis.deleteKeys(prefix);
        }
    }

    @Test
    void preRequestPhaseAsksForTheCorrelationVariableAndRequestBodyButNeverTheResponseBody() throws Exception {
        A6Client.ReqCallAnswer a = call("TokenBudget", "{\"config\": \"/etc/tb.yaml\",");

        assertThat(a.infosAsked()).containsExactly(Info.Var, Info.ReqBody);
    }
}
