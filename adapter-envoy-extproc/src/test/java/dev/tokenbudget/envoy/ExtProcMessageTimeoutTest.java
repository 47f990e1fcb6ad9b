package dev.tokenbudget.envoy;

import dev.tokenbudget.engine.EngineFixture;
import dev.tokenbudget.estimate.InputEstimator;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.routing.UpstreamLimiter;
import dev.tokenbudget.testing.Poll;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static dev.tokenbudget.envoy.EnvoyMessages.EXAMPLE_CONFIG;
import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestBody;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;
import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Admission against Envoy's per-message timer: a wait for an upstream quota and a 10 MiB prompt
 * are answered before the filter's timer fires, by asking for more time within
 * {@code max_message_timeout} or by ending the wait early; a request Envoy gave up on gives back
 * its reservation and its quota. The timer runs on the engine's manual clock (EnvoyRules): time
 * passes only where a test advances it.
 */
class ExtProcMessageTimeoutTest {

    private static final String KEY = "sk-tb-quota";
    private static final String YAML = """
            providers:
              openai: { api_key_env: TB_OPENAI }
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 100M } }]
            keys:
              - { name: q, sha256: %s, budget: org }
            upstreams:
              - name: openai-org
                provider: openai
                models: [gpt-4.1]
                limits: { requests_per_minute: 60, tokens_per_minute: 6000 }
                max_wait: 2s
            """.formatted(EngineFixture.sha(KEY));

    /** About 2,010 tokens reserved: two leave about 1,980 of the 6,000 TPM quota. */
    private static final byte[] BODY = """
            {"model":"gpt-4.1","max_tokens":2000,"messages":[{"role":"user","content":"Hello there"}]}"""
            .getBytes(StandardCharsets.UTF_8);

    /** About 2,110 tokens: after the two above it fits only after 1.3 s of refill. */
    private static final byte[] WAITING = """
            {"model":"gpt-4.1","max_tokens":2100,"messages":[{"role":"user","content":"Hello there"}]}"""
            .getBytes(StandardCharsets.UTF_8);

    private final EngineFixture engine = new EngineFixture(YAML);
    /** Runs inside the estimator, on the processor's thread: a test's stand-in for estimating time. */
    private final AtomicReference<Runnable> whileEstimating = new AtomicReference<>(() -> { });
    private final BudgetGateway gateway = new BudgetGateway(engine.engine, GatewayOptions.custom()
            .environment(Map.of("TB_OPENAI", "sk-upstream")::get)
            .estimator(this::estimate).build());
    private ExtProcFixture fx;

    private long estimate(dev.tokenbudget.provider.Family family, String model,
                          dev.tokenbudget.provider.PromptText prompt) {
        whileEstimating.get().run();
        return InputEstimator.overhead(prompt) + prompt.text().length() / 4;
    }

    @AfterEach
    void close() throws Exception {
        if (fx != null) {
            fx.close();
        }
    }

    private ExtProcFixture start(EnvoyRules rules) {
        fx = new ExtProcFixture(engine, gateway, rules);
        return fx;
    }

    private EnvoyRules example() {
        return EnvoyRules.example(engine.clock::nanoTime);
    }

    private UpstreamLimiter quota() {
        return gateway.upstream("openai", "gpt-4.1").orElseThrow();
    }

    /** Two admitted requests that fill the quota; their streams stay open (awaiting the response). */
    private void fillTheQuota() {
        for (int i = 0; i < 2; i++) {
            EnvoyStream s = fx.stream();
            ProcessingResponse[] r = EnvoySequences.request(s, "/v1/chat/completions", bearer(KEY), BODY);
            assertThat(r[1].hasRequestBody()).isTrue();
        }
    }

    /** Sends a request whose admission must wait, and waits (bounded) until the processor sent {@code n} messages. */
    private EnvoyStream waitingRequest(int n) {
        EnvoyStream s = fx.stream();
        s.exchange(requestHeaders(post("/v1/chat/completions", WAITING.length, bearer(KEY)), false, EXAMPLE_CONFIG));
        s.send(requestBody(WAITING, true));
        awaitArrivals(s, n);
        return s;
    }

    private static void awaitArrivals(EnvoyStream s, int n) {
        assertThat(Poll.until(Duration.ofSeconds(10), () -> s.arrivals() >= n))
                .as("the processor sent %d messages", n).isTrue();
    }

    @Test
    void aQuotaWaitLongerThanMessageTimeoutAsksEnvoyForMoreTimeAndIsAnsweredBeforeItsTimerFires() {
        start(example());
        assertThat(fx.rules.messageTimeout()).isEqualTo(Duration.ofSeconds(1));
        fillTheQuota();
        // the admission waits: the processor restarts Envoy's timer at max_message_timeout first
        EnvoyStream s = waitingRequest(2);
        engine.clock.advance(Duration.ofMillis(1400)); // past message_timeout: room for one more
        quota().poll();
        ProcessingResponse body = s.next(); // EnvoyRules: the override, then the answer within 5 s
        assertThat(Mutations.set(body.getRequestBody().getResponse().getHeaderMutation()))
                .containsEntry("authorization", "Bearer sk-upstream");
    }

    @Test
    void withoutMaxMessageTimeoutTheQuotaWaitEndsBeforeEnvoysTimerWithA429() {
        start(example().with(f -> f.clearMaxMessageTimeout()));
        fillTheQuota();
        long heldByTwo = engine.reservedTotal("org");
        EnvoyStream s = waitingRequest(1); // only the headers' answer: no override can be asked for
        assertThat(Poll.until(Duration.ofSeconds(10), () -> quota().waiting() == 1)).isTrue();
        engine.clock.advance(Duration.ofMillis(950)); // the wait ends at 900 ms (1 s less the margin)
        quota().poll();
        ProcessingResponse r = s.next();
        assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(429);
        assertThat(Mutations.set(r.getImmediateResponse().getHeaders())).containsKey("retry-after");
        assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        assertThat(engine.reservedTotal("org")).isEqualTo(heldByTwo); // the refused request holds nothing
    }

    @Test
    void aRequestEnvoyAbandonsWhileWaitingGivesBackItsReservationAndItsQuotaSlot() {
        start(example());
        fillTheQuota();
        long heldByTwo = engine.reservedTotal("org");
        EnvoyStream s = waitingRequest(2);
        assertThat(engine.reservedTotal("org")).isGreaterThan(heldByTwo);
        double requestsLeft = quota().levels().get("requests");
        s.cancel(); // the client went away (or Envoy's own timer fired): Envoy resets the stream
        assertThat(Poll.until(Duration.ofSeconds(10), () -> fx.service.abandonedAdmissions() == 1)).isTrue();
        engine.clock.advance(Duration.ofMillis(1400));
        quota().poll(); // granted to nobody: the processor withdraws it
        assertThat(Poll.until(Duration.ofSeconds(10), () -> engine.reservedTotal("org") == heldByTwo)).isTrue();
        // 1.4 s of refill (1.4 requests at 60 RPM) and the abandoned request's slot given back; the
        // withdrawal releases the reservation first and the slot after it, so the slot is waited for too
        long refilledAndGivenBack = (long) Math.floor(requestsLeft + 1.4);
        Poll.until(Duration.ofSeconds(10), () -> quota().levels().get("requests") == refilledAndGivenBack);
        assertThat(quota().levels().get("requests")).isEqualTo(refilledAndGivenBack);
        assertThat(engine.usedTotal("org")).isZero();
    }

    @Test
    void envoysLocalReplyDuringAWaitingAdmissionIsAnsweredAndTheAdmissionWithdrawn() {
        start(example());
        fillTheQuota();
        long heldByTwo = engine.reservedTotal("org");
        EnvoyStream s = waitingRequest(2);
        // the HCM's request timeout fires meanwhile: Envoy answers 408 itself
        ProcessingResponse rh = s.exchange(responseHeaders(408, "text/plain", false));
        assertThat(rh.hasResponseHeaders()).isTrue();
        engine.clock.advance(Duration.ofMillis(1400));
        quota().poll();
        ProcessingResponse body = s.next(); // the body's call still open in Envoy gets a plain answer
        assertThat(body.getRequestBody().getResponse().hasHeaderMutation()).isFalse();
        assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        assertThat(Poll.until(Duration.ofSeconds(10), () -> engine.reservedTotal("org") == heldByTwo)).isTrue();
    }

    @Test
    void aTenMebibytePromptAsksForMoreTimeBeforeEstimatingAndIsAnsweredWithinIt() {
        start(example());
        StringBuilder text = new StringBuilder(10_000_000);
        while (text.length() < 10_000_000) {
            text.append("The quarterly report lists every invoice line by line. ");
        }
        // a model outside the small upstream quota: this test is about estimating, not waiting
        byte[] big = ("{\"model\":\"gpt-4.1-mini\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\""
                + text + "\"}]}").getBytes(StandardCharsets.UTF_8);
        assertThat(big.length).isBetween(MessageTimeouts.SLOW_BODY_BYTES, 10 << 20);
        EnvoyStream s = fx.stream();
        // estimating this much text takes its time (0.15 to 1 s per 10 MiB here): 1.5 s on the
        // manual clock, once the processor's request for more time has reached Envoy
        whileEstimating.set(() -> {
            Poll.until(Duration.ofSeconds(10), () -> s.arrivals() >= 2);
            engine.clock.advance(Duration.ofMillis(1500));
        });
        s.exchange(requestHeaders(post("/v1/chat/completions", big.length, bearer(KEY)), false, EXAMPLE_CONFIG));
        ProcessingResponse body = s.exchange(requestBody(big, true));
        assertThat(body.getRequestBody().getResponse().hasHeaderMutation()).isTrue();
        assertThat(s.envoy().requestHeaders()).containsEntry("authorization", List.of("Bearer sk-upstream"));
    }
}
