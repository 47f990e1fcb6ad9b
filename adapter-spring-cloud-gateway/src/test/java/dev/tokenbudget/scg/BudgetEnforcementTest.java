package dev.tokenbudget.scg;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.fake.RecordedExchange;
import dev.tokenbudget.fake.ReportedUsage;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BudgetEnforcementTest extends GatewayTestBase {

    private EntityExchangeResult<byte[]> post(String path, String key, String body, String... headers) {
        return client().post().uri(path)
                .header(HttpHeaders.AUTHORIZATION, "Bearer " + key)
                .headers(h -> {
                    for (int i = 0; i + 1 < headers.length; i += 2) {
                        h.add(headers[i], headers[i + 1]);
                    }
                })
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body)
                .exchange().expectBody().returnResult();
    }

    @Test
    void hardStopBudgetIsExhaustedOverManyRequestsAndThenAnswers429UntilMidnight() {
        List<Integer> statuses = new ArrayList<>();
        EntityExchangeResult<byte[]> rejected = null;
        for (int i = 0; i < 60 && rejected == null; i++) {
            EntityExchangeResult<byte[]> r = post("/v1/chat/completions", "vk-it-hard", chat("gpt-4o", 100, false));
            statuses.add(r.getStatus().value());
            if (r.getStatus().value() == 429) {
                rejected = r;
            }
        }

        assertThat(rejected).as("a 429 within 60 requests, statuses %s", statuses).isNotNull();
        assertThat(statuses.subList(0, statuses.size() - 1)).hasSizeGreaterThan(10).containsOnly(200);
        HttpHeaders h = rejected.getResponseHeaders();
        // the clock stands at noon UTC and the window is a UTC day: it resets in 12 hours
        assertThat(h.getFirst("Retry-After")).isEqualTo("43200");
        assertThat(h.getFirst("RateLimit-Policy")).isEqualTo("\"hard\";q=1500;w=86400");
        assertThat(h.getFirst("RateLimit")).startsWith("\"hard\";r=").endsWith(";t=43200");
        assertThat(h.getFirst("x-tokenbudget-decision")).isEqualTo("reject");
        assertThat(h.getContentType()).isEqualTo(MediaType.APPLICATION_JSON);
        JsonNode error = json(rejected.getResponseBodyContent()).get("error");
        assertThat(error.get("message").asText()).contains("hard");
        assertThat(error.get("type").asText()).isNotBlank();
        // the rejected request never reached the provider, and what was charged is what it reported
        assertThat(OPENAI.exchanges()).hasSize(statuses.size() - 1);
        ReportedUsage reported = OPENAI.totalReportedUsage();
        await("settlement of every admitted request", () -> reserved("hard").total() == 0);
        assertThat(used("hard").input()).isEqualTo(reported.inputTokens());
        assertThat(used("hard").output()).isEqualTo(reported.outputTokens());
        assertThat(used("hard").total()).isLessThanOrEqualTo(1500);
    }

    @Test
    void aRequestLargerThanTheWholeDayGetsAFinal400WithoutRetryAfterInTheProvidersShape() {
        // 5,000 output tokens can never fit the hard budget's 1,500 a day, spent or not
        EntityExchangeResult<byte[]> r = post("/v1/chat/completions", "vk-it-hard", chat("gpt-4o", 5000, false));
        assertThat(r.getStatus().value()).isEqualTo(400);
        HttpHeaders h = r.getResponseHeaders();
        assertThat(h.getFirst("Retry-After")).as("no Retry-After on a final answer: %s", h).isNull();
        assertThat(h.getFirst("x-tokenbudget-error-code")).isEqualTo("request_exceeds_budget_limit");
        assertThat(h.getFirst("RateLimit-Policy")).isEqualTo("\"hard\";q=1500;w=86400");
        JsonNode error = json(r.getResponseBodyContent()).get("error");
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("code").asText()).isEqualTo("request_exceeds_budget_limit");
        assertThat(error.get("message").asText()).contains("budget 'hard'", "at most 1500 total tokens per day");

        EntityExchangeResult<byte[]> a = client().post().uri("/v1/messages").header("x-api-key", "vk-it-hard")
                .header("anthropic-version", "2023-06-01").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(messages("claude-sonnet-4-5", 5000, false)).exchange().expectBody().returnResult();
        assertThat(a.getStatus().value()).isEqualTo(400);
        assertThat(a.getResponseHeaders().getFirst("Retry-After")).isNull();
        assertThat(json(a.getResponseBodyContent()).at("/error/type").asText()).isEqualTo("invalid_request_error");
        assertThat(OPENAI.exchanges()).isEmpty();
        assertThat(ANTHROPIC.exchanges()).isEmpty();
        assertThat(reserved("hard").total()).isZero();
    }

    @Test
    void degradesAt90PercentToTheCheaperModelOnTheEconomyRoute() {
        EntityExchangeResult<byte[]> degraded = null;
        int allowed = 0;
        for (int i = 0; i < 80 && degraded == null; i++) {
            EntityExchangeResult<byte[]> r = post("/v1/chat/completions", "vk-it-soft", chat("gpt-4o", 100, false));
            assertThat(r.getStatus().value()).as("soft budgets never reject").isEqualTo(200);
            if ("degrade".equals(r.getResponseHeaders().getFirst("x-tokenbudget-decision"))) {
                degraded = r;
            } else {
                allowed++;
            }
        }

        assertThat(degraded).as("degraded within 80 requests").isNotNull();
        assertThat(allowed).isPositive();
        // the allowed requests went to the normal upstream with the model asked for
        assertThat(OPENAI.exchanges()).hasSize(allowed).allSatisfy(e ->
                assertThat(json(e.request().body()).get("model").asText()).isEqualTo("gpt-4o"));
        // the degraded one was re-routed by the x-tokenbudget-route predicate, with the cheaper model
        RecordedExchange economy = ECONOMY.lastExchange();
        assertThat(ECONOMY.exchanges()).hasSize(1);
        assertThat(json(economy.request().body()).get("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(economy.request().header("x-tokenbudget-route")).isEqualTo("economy");
        assertThat(json(degraded.getResponseBodyContent()).get("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(degraded.getResponseHeaders().getFirst("x-tokenbudget-route")).isEqualTo("economy");
        assertThat(degraded.getResponseHeaders().getFirst("x-tokenbudget-degraded-model")).isEqualTo("gpt-4o-mini");
        assertThat(Double.parseDouble(degraded.getResponseHeaders().getFirst("x-tokenbudget-utilization")))
                .isGreaterThanOrEqualTo(0.9);
    }

    @Test
    void admittedResponsesCarryRemainingTokensUtilisationAndTheBindingBudget() {
        EntityExchangeResult<byte[]> r = post("/v1/chat/completions", "vk-it-team", chat("gpt-4o", 50, false));

        assertThat(r.getStatus().value()).isEqualTo(200);
        HttpHeaders h = r.getResponseHeaders();
        assertThat(h.getFirst("x-tokenbudget-decision")).isEqualTo("allow");
        assertThat(h.getFirst("x-tokenbudget-budget")).isNotBlank();
        assertThat(Long.parseLong(h.getFirst("x-tokenbudget-remaining-tokens"))).isPositive();
        assertThat(h.getFirst("x-tokenbudget-utilization")).matches("0\\.\\d{4}");
        assertThat(h.getFirst("RateLimit")).isNotBlank();
        // the upstream's own headers pass through too
        assertThat(h.getFirst("x-request-id")).startsWith("req_");
    }

    @Test
    void aClientThatAcceptsGzipIsStillSettledExactly() {
        // SDKs send Accept-Encoding: gzip and providers' edges compress JSON when asked: the
        // gateway must receive usage it can read, so it asks the upstream for an uncompressed body
        EntityExchangeResult<byte[]> r = post("/v1/chat/completions", "vk-it-gzip", chat("gpt-4o", 50, false),
                "Accept-Encoding", "gzip");

        assertThat(r.getStatus().value()).isEqualTo(200);
        assertThat(OPENAI.lastExchange().request().header("accept-encoding")).isNull();
        assertThat(json(r.getResponseBodyContent()).get("usage")).isNotNull();
        ReportedUsage reported = OPENAI.lastExchange().usage().orElseThrow();
        await("settlement", () -> reserved("key:gzip").total() == 0);
        assertThat(used("key:gzip").total()).isEqualTo(reported.totalTokens());
    }

    @Test
    void aFeatureTheKeyMayNotUseIsForbidden() {
        EntityExchangeResult<byte[]> r = post("/v1/chat/completions", "vk-it-team", chat("gpt-4o", 50, false),
                "x-tokenbudget-feature", "team-secret");

        assertThat(r.getStatus().value()).isEqualTo(403);
        assertThat(json(r.getResponseBodyContent()).get("error").get("message").asText()).contains("team-secret");
        assertThat(OPENAI.exchanges()).isEmpty();
    }

    @Test
    void aFeatureTheKeyMayUseIsCharged() {
        long before = used("team-chat").total();

        EntityExchangeResult<byte[]> r = post("/v1/chat/completions", "vk-it-team", chat("gpt-4o", 50, false),
                "x-tokenbudget-feature", "team-chat");

        assertThat(r.getStatus().value()).isEqualTo(200);
        long reported = OPENAI.lastExchange().usage().orElseThrow().totalTokens();
        await("settlement", () -> used("team-chat").total() == before + reported);
    }
}
