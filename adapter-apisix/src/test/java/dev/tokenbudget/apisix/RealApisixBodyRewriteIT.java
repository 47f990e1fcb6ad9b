package dev.tokenbudget.apisix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.apisix.BudgetProbe.Settled;
import dev.tokenbudget.engine.DecisionHeaders;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.testing.Poll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static dev.tokenbudget.apisix.RealApisixStack.key;
import static dev.tokenbudget.apisix.RealApisixStack.redisEngineHead;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request bodies rewritten on a real Apache APISIX 3.9.1 ({@link ApisixKit}, the shipped example
 * routes, the published runner 0.4.0 with the shipped plugin jar): the plugin's extended runner
 * sends APISIX's {@code Rewrite.body} and {@code resp_headers}, so a degraded request reaches the
 * economy upstream with the cheaper model in its body, a hard stop admits a request clamped to
 * the degrade's output ceiling, an OpenAI stream asked without {@code stream_options} is sent with
 * {@code include_usage} and settled exactly, and admitted responses carry the decision headers.
 */
class RealApisixBodyRewriteIT {

    private static final String SECRET = "it-settle-secret-" + Long.toString(System.nanoTime(), 36);
    private static final String UPSTREAM_KEY = "sk-upstream-it";
    private static final String SUPPORT = "sk-tb-body-support";
    private static final String SAVER = "sk-tb-body-saver";
    private static final String CAPPED = "sk-tb-body-capped";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static RealApisixStack stack;
    private static BudgetProbe probe;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        stack = RealApisixStack.start("apisix-body", SECRET, UPSTREAM_KEY, RealApisixBodyRewriteIT::engineConfig);
        probe = stack.probe;
        base = stack.base();
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack != null) {
            stack.close();
        }
    }

    private static String engineConfig(String keyPrefix) {
        return redisEngineHead(keyPrefix)
                + "providers:\n  openai: { api_key_env: OPENAI_API_KEY }\n"
                + "budgets:\n"
                + "  - id: support\n    windows:\n      - { period: month, limits: { total: 1M } }\n"
                + "  - id: saver\n    windows:\n      - { period: month, limits: { total: 400 } }\n"
                + "    thresholds:\n      - { at: 50, policy: degrade_route }\n"
                + "      - { at: 100, policy: degrade_route }\n"
                + "    degrade:\n      models: { gpt-4.1: gpt-4.1-mini }\n      route: economy\n"
                // a request asking 1000 output tokens cannot fit 300; clamped to 40 on the degrade route it does
                + "  - id: capped\n    windows:\n      - { period: day, limits: { total: 300 } }\n"
                + "    thresholds:\n      - { at: 90, policy: degrade_route }\n      - { at: 100, policy: hard_stop }\n"
                + "    degrade:\n      max_output_tokens: 40\n      route: economy\n"
                + "keys:\n" + key("support", SUPPORT) + key("saver", SAVER) + key("capped", CAPPED);
    }

    @Test
    void degradedRequestReachesTheEconomyUpstreamWithTheCheaperModelInItsBody() throws Exception {
        long before = stack.economy.tally().requests();
        HttpResponse<String> r = null;
        for (int i = 0; i < 20 && stack.economy.tally().requests() == before; i++) {
            r = send(chat(SAVER, "gpt-4.1", 40, false, true));
            assertThat(r.statusCode()).as(r.body() + stack.kit().errorLog()).isEqualTo(200);
            awaitSettled("saver");
        }
        assertThat(stack.economy.tally().requests()).as("a degraded request reached the economy upstream")
                .isGreaterThan(before);
        JsonNode sent = JSON.readTree(stack.economy.lastExchange().request().bodyText());
        assertThat(sent.path("model").asText()).isEqualTo("gpt-4.1-mini");
        assertThat(sent.path("messages").get(0).path("content").asText()).isEqualTo("How do token budgets work?");
        // the decision headers reach the client of an admitted request too
        assertThat(r.headers().firstValue(DecisionHeaders.DECISION)).hasValue("degrade");
        assertThat(r.headers().firstValue(DecisionHeaders.BUDGET)).hasValue("saver");
        assertThat(JSON.readTree(r.body()).path("model").asText()).startsWith("gpt-4.1-mini");
    }

    @Test
    void hardStopAdmitsARequestClampedToTheDegradesOutputCeiling() throws Exception {
        long before = stack.economy.tally().requests();
        HttpResponse<String> r = send(chat(CAPPED, "gpt-4.1", 1000, false, true));
        assertThat(r.statusCode()).as(r.body() + stack.kit().errorLog()).isEqualTo(200);
        assertThat(r.headers().firstValue(DecisionHeaders.DECISION)).hasValue("degrade");
        assertThat(stack.economy.tally().requests()).isGreaterThan(before);
        JsonNode sent = JSON.readTree(stack.economy.lastExchange().request().bodyText());
        assertThat(sent.path("max_tokens").asLong()).isEqualTo(40);
        assertThat(JSON.readTree(r.body()).path("usage").path("completion_tokens").asLong()).isLessThanOrEqualTo(40);
        awaitSettled("capped");
    }

    @Test
    void openAiStreamWithoutStreamOptionsIsSentWithIncludeUsageAndSettledExactly() throws Exception {
        Settled s = probe.settled("support", stack.provider, () -> {
            EventStream st = EventStream.read(HTTP, chat(SUPPORT, "gpt-4.1", 64, true, false), null);
            assertThat(st.status()).isEqualTo(200);
            assertThat(st.events().get(st.events().size() - 1)).isEqualTo("data: [DONE]");
            JsonNode sent = JSON.readTree(stack.provider.lastExchange().request().bodyText());
            assertThat(sent.path("stream_options").path("include_usage").asBoolean()).isTrue();
            // the client asked for no usage, yet the provider's usage chunk reaches it (as OpenAI sends it)
            assertThat(st.events()).anySatisfy(e -> assertThat(e).contains("\"usage\":{"));
        });
        s.assertExact();
    }

    private static void awaitSettled(String budget) {
        Poll.await("nothing reserved on " + budget, Duration.ofSeconds(30), Duration.ofMillis(20),
                () -> probe.reserved(budget).equals(TokenCounts.ZERO));
    }

    private static HttpRequest chat(String key, String model, int maxTokens, boolean stream, boolean usage) {
        String body = "{\"model\":\"" + model + "\",\"max_tokens\":" + maxTokens + ",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"How do token budgets work?\"}]"
                + (stream ? ",\"stream\":true" + (usage ? ",\"stream_options\":{\"include_usage\":true}" : "") : "")
                + "}";
        return HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("authorization", "Bearer " + key).header("content-type", "application/json")
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static HttpResponse<String> send(HttpRequest r) throws Exception {
        return HTTP.send(r, HttpResponse.BodyHandlers.ofString());
    }
}
