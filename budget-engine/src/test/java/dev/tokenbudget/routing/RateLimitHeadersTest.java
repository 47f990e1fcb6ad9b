package dev.tokenbudget.routing;

import dev.tokenbudget.time.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitHeadersTest {

    private static final Instant NOW = Instant.parse("2026-11-28T10:00:00Z");

    private static RateLimitHeaders.Reading read(Map<String, String> headers) {
        TreeMap<String, String> ci = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        ci.putAll(headers);
        return RateLimitHeaders.read(ci::get, NOW);
    }

    @Test
    void readsOpenAisHeaders() {
        // as sent by OpenAI with a chat completion (values illustrative)
        var r = read(Map.of("x-ratelimit-limit-requests", "5000", "x-ratelimit-remaining-requests", "4999",
                "x-ratelimit-limit-tokens", "450000", "x-ratelimit-remaining-tokens", "449650",
                "x-ratelimit-reset-requests", "12ms", "x-ratelimit-reset-tokens", "6m0s"));
        assertThat(r.tokensLimit()).hasValue(450_000);
        assertThat(r.tokensRemaining()).hasValue(449_650);
        assertThat(r.requestsRemaining()).hasValue(4999);
        assertThat(r.tokensReset()).isEqualTo(Duration.ofMinutes(6));
        assertThat(RateLimitHeaders.goDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(RateLimitHeaders.goDuration("1h2m3s")).isEqualTo(Duration.ofSeconds(3723));
        assertThat(RateLimitHeaders.goDuration("20ms")).isEqualTo(Duration.ofMillis(20));
        assertThat(RateLimitHeaders.goDuration("soon")).isNull();
    }

    @Test
    void readsAnthropicsHeaders() {
        var r = read(Map.of("anthropic-ratelimit-requests-limit", "50",
                "anthropic-ratelimit-requests-remaining", "49",
                "anthropic-ratelimit-input-tokens-limit", "30000",
                "anthropic-ratelimit-input-tokens-remaining", "27000",
                "anthropic-ratelimit-output-tokens-limit", "8000",
                "anthropic-ratelimit-output-tokens-remaining", "7500",
                "anthropic-ratelimit-tokens-reset", "2026-11-28T10:00:30Z"));
        assertThat(r.inputRemaining()).hasValue(27_000);
        assertThat(r.outputLimit()).hasValue(8_000);
        assertThat(r.tokensReset()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void garbageIsIgnoredNotFatal() {
        var r = read(Map.of("x-ratelimit-remaining-tokens", "lots", "x-ratelimit-limit-tokens", "-5"));
        assertThat(r.isEmpty()).isTrue();
    }

    @Test
    void calibrationAdoptsTheProvidersLimitAndNeverMoreThanItSaysIsLeft() {
        ManualClock clock = new ManualClock(NOW);
        // the preset says tier 1 (30k TPM) but the account is really tier 2 (450k)
        UpstreamLimiter l = new UpstreamLimiter("openai", TierPresets.get("openai-tier-1").orElseThrow(),
                Duration.ofSeconds(1), Map.of(), clock, null);
        l.calibrate(read(Map.of("x-ratelimit-limit-tokens", "450000", "x-ratelimit-remaining-tokens", "400000")));
        assertThat(l.levels().get("tokens")).isEqualTo(30_000L); // still never above what we had
        clock.advance(Duration.ofSeconds(60));
        assertThat(l.levels().get("tokens")).isEqualTo(450_000L); // refills to the real limit
        // someone else on the same organisation used most of it: the provider's word wins
        l.calibrate(read(Map.of("x-ratelimit-remaining-tokens", "1200")));
        assertThat(l.levels().get("tokens")).isEqualTo(1_200L);
    }

    @Test
    void presetsCoverBothProvidersTiers() {
        assertThat(TierPresets.get("anthropic-tier-1")).hasValue(TierLimits.anthropic(50, 30_000, 8_000));
        assertThat(TierPresets.get("anthropic-tier-4")).hasValue(TierLimits.anthropic(4_000, 2_000_000, 400_000));
        assertThat(TierPresets.get("openai-tier-1")).hasValue(TierLimits.openAi(500, 30_000));
        assertThat(TierPresets.names()).hasSize(18);
        assertThat(TierPresets.get("openai-tier-9")).isEmpty();
    }
}
