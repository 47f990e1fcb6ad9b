package dev.tokenbudget.apisix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.store.TokenCounts;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Through the real plugin runner: a request larger than its budget's whole window gets the final
 * 400 of the gateway layer, while one that only has to wait gets 429 with the time to the reset.
 */
class NeverFitsOnApisixTest extends RouteTestSupport {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static byte[] chat(int maxTokens) {
        String body = new String(payload("openai-chat-request.json"), StandardCharsets.UTF_8);
        return body.replaceFirst("\"max_tokens\": \\d+", "\"max_tokens\": " + maxTokens)
                .getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aRequestLargerThanTheWholeDayGetsAFinal400WithoutRetryAfter() throws Exception {
        // the agents budget allows 3,000 tokens a day: 5,000 never fit, however long the client waits
        MiniApisix.Result r = openAiChat("sk-tb-apisix-agents", chat(5_000));

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.upstream()).isNull();
        assertThat(openai.received()).isEmpty();
        assertThat(r.header("retry-after")).isNull();
        assertThat(r.header("x-tokenbudget-error-code")).isEqualTo("request_exceeds_budget_limit");
        assertThat(r.header("ratelimit-policy")).startsWith("\"agents\";q=3000;w=");
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.path("code").asText()).isEqualTo("request_exceeds_budget_limit");
        assertThat(error.path("message").asText()).contains("budget 'agents'", "at most 3000 total tokens per day");
        assertThat(reserved("agents")).isEqualTo(TokenCounts.ZERO);
    }

    @Test
    void aRequestThatFitsTheDayButNotWhatIsLeftGets429WithTheSecondsToMidnight() throws Exception {
        spend("sk-tb-apisix-agents", 1000, 1000);
        Instant midnight = LocalDate.now(ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        long before = Duration.between(Instant.now(), midnight).toSeconds();
        MiniApisix.Result r = openAiChat("sk-tb-apisix-agents", chat(2_500));
        long after = Duration.between(Instant.now(), midnight).toSeconds();

        assertThat(r.status()).isEqualTo(429);
        assertThat(r.header("x-tokenbudget-error-code")).isEqualTo("token_budget_exceeded");
        // the engine rounds up to whole seconds: between what was left before and after the request, plus one
        assertThat(Long.parseLong(r.header("retry-after"))).isBetween(after, before + 1);
    }
}
