package dev.tokenbudget.gateway;

import dev.tokenbudget.engine.EngineFixture;
import dev.tokenbudget.routing.UpstreamLimiter;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** The gateway layer puts admitted requests through the configured upstream quota. */
class UpstreamQuotaGatewayTest {

    private static final String KEY = "sk-tb-quota";
    private static final String YAML = """
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 10M } }]
            keys:
              - { name: q, sha256: %s, budget: org }
            upstreams:
              - name: openai-org
                provider: openai
                limits: { requests_per_minute: 1000, tokens_per_minute: 6000 }
                max_wait: 2s
            """.formatted(EngineFixture.sha(KEY));

    private static final String BODY = """
            {"model":"gpt-4.1","max_tokens":2000,"messages":[{"role":"user","content":"Hello there"}]}""";

    private final EngineFixture fx = new EngineFixture(YAML);
    private final BudgetGateway gateway = new BudgetGateway(fx.engine, GatewayOptions.ofDefaults());

    private CompletableFuture<Admission> admit() {
        Identified id = (Identified) gateway.identify(TestRequest.post("/v1/chat/completions",
                "Authorization", "Bearer " + KEY));
        return gateway.admitAsync(id, BODY.getBytes(StandardCharsets.UTF_8)).toCompletableFuture();
    }

    private UpstreamLimiter limiter() {
        return gateway.upstream("openai", "gpt-4.1").orElseThrow();
    }

    @Test
    void requestsWaitBrieflyForTheUpstreamQuotaOrAreRefusedBeforeTheyCostAProvider429() {
        Forward first = (Forward) admit().join();
        Forward second = (Forward) admit().join();
        long perRequest = first.ticket().reservedInput() + first.ticket().reservedOutput();
        assertThat(perRequest).isBetween(2001L, 2100L);
        CompletableFuture<Admission> third = admit();   // needs a few tokens more than are left: waits
        CompletableFuture<Admission> fourth = admit();  // needs ~20 s of refill: more than max_wait
        assertThat(third).isNotDone();
        assertThat(fourth).isNotDone();
        fx.clock.advance(Duration.ofSeconds(1));
        limiter().poll();
        assertThat(third.join()).isInstanceOf(Forward.class);
        assertThat(fourth).isNotDone();
        fx.clock.advance(Duration.ofSeconds(2));
        limiter().poll();
        Reply r = (Reply) fourth.join();
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.headers()).containsKey("Retry-After");
        assertThat(r.bodyText()).contains("upstream_quota_exhausted").contains("openai-org");
        // the refused request's budget reservation was released: three requests hold tokens
        assertThat(fx.reservedTotal("org")).isEqualTo(3 * perRequest);
        assertThat(second.ticket()).isNotNull();
    }

    @Test
    void settlementRefundsTheQuotaAndProviderHeadersCalibrateIt() {
        Forward f = (Forward) admit().join();
        TreeMap<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.putAll(Map.of("x-ratelimit-limit-tokens", "6000", "x-ratelimit-remaining-tokens", "1000"));
        f.meter().onResponseHeaders(200, "application/json", headers::get);
        byte[] body = """
                {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4.1","choices":[{"index":0,
                "message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],
                "usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}""".getBytes(StandardCharsets.UTF_8);
        f.meter().onBytes(body, 0, body.length);
        f.meter().complete();
        // the provider said 1000 left; settling gave back what the estimate over-took (2010 - 10)
        long perRequest = f.ticket().reservedInput() + f.ticket().reservedOutput();
        assertThat(limiter().levels().get("tokens")).isEqualTo(1000L + perRequest - 10);
    }

    @Test
    void aHostThatMustAnswerWithinABoundIsRefusedAtItsBoundNotAtMaxWait() {
        admit().join();
        admit().join();
        Identified id = (Identified) gateway.identify(TestRequest.post("/v1/chat/completions",
                "Authorization", "Bearer " + KEY));
        // would be granted after ~1 s of refill (max_wait 2 s), but the host must answer within 900 ms
        CompletableFuture<Admission> bounded = gateway.admitAsync(id, BODY.getBytes(StandardCharsets.UTF_8),
                Duration.ofMillis(900)).toCompletableFuture();
        fx.clock.advance(Duration.ofMillis(901));
        limiter().poll();
        Reply r = (Reply) bounded.join();
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.headers().get("Retry-After")).isEqualTo("1");
        Forward first = (Forward) admit().join(); // the refused request took nothing: the refill serves the next
        assertThat(first.ticket()).isNotNull();
    }

    @Test
    void aWithdrawnRequestGivesBackItsReservationAndTheWholeUpstreamPermit() {
        Map<String, Long> before = limiter().levels();
        Forward f = (Forward) admit().join();
        assertThat(limiter().levels().get("requests")).isEqualTo(before.get("requests") - 1);
        MeterResult m = f.meter().withdraw();
        assertThat(m.outcome()).isEqualTo(MeterResult.Outcome.RELEASED);
        assertThat(limiter().levels()).isEqualTo(before);
        assertThat(fx.reservedTotal("org")).isZero();
        assertThat(fx.usedTotal("org")).isZero();
        assertThat(f.meter().abort()).isSameAs(m); // the first end wins
    }
}
