package dev.tokenbudget.apisix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.StreamPacer;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.apisix.BudgetProbe.Settled;
import dev.tokenbudget.testing.Poll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static dev.tokenbudget.apisix.BudgetProbe.minus;
import static dev.tokenbudget.apisix.RealApisixStack.key;
import static dev.tokenbudget.apisix.RealApisixStack.redisEngineHead;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * TokenBudget on a real Apache APISIX 3.9.1 (the kit, {@link ApisixKit}): the real plugin runner
 * 0.4.0 as a separate JVM with the shipped plugin jar, the fake provider over https (a throwaway
 * CA that APISIX's nginx verifies) and over plain HTTP, and the shipped
 * {@code examples/apisix/config.yaml} and {@code apisix.yaml} changed only in hosts, ports, the CA
 * path and the engine config path. Requests go through APISIX as a client sends them; budgets are
 * read from the shared Redis store the runner charges.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealApisixIT {

    private static final String SECRET = "it-settle-secret-" + Long.toString(System.nanoTime(), 36);
    private static final String UPSTREAM_KEY = "sk-upstream-it";
    private static final String SUPPORT = "sk-tb-it-support";
    private static final String AGENTS = "sk-tb-it-agents";
    private static final String SAVER = "sk-tb-it-saver";
    private static final String OPS = "sk-tb-it-ops";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RealApisixStack stack;
    private static FakeProvider provider;
    private static FakeProvider economy;
    private static FakeProvider plain;
    private static ApisixKit kit;
    private static BudgetProbe probe;
    private static String base;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        stack = RealApisixStack.start("real-apisix", SECRET, UPSTREAM_KEY, RealApisixIT::engineConfig);
        provider = stack.provider;
        economy = stack.economy;
        plain = stack.plain;
        kit = stack.kit();
        probe = stack.probe;
        base = stack.base();
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack != null) {
            stack.close();
        }
    }

    // ---- the engine config

    private static String engineConfig(String keyPrefix) {
        return redisEngineHead(keyPrefix)
                + "providers:\n  openai: { api_key_env: OPENAI_API_KEY }\n"
                + "  anthropic: { api_key_env: ANTHROPIC_API_KEY }\n"
                + "budgets:\n"
                + "  - id: acme\n    windows:\n      - { period: month, limits: { total: 10M } }\n"
                + "  - id: support\n    parent: acme\n    windows:\n      - { period: month, limits: { total: 1M } }\n"
                + "  - id: ops\n    parent: acme\n    windows:\n      - { period: month, limits: { total: 1M } }\n"
                + "  - id: agents\n    parent: acme\n    windows:\n      - { period: day, limits: { total: 600 } }\n"
                + "    thresholds:\n      - { at: 100, policy: hard_stop }\n"
                + "  - id: saver\n    parent: acme\n    windows:\n      - { period: month, limits: { total: 400 } }\n"
                + "    thresholds:\n      - { at: 50, policy: degrade_route }\n"
                + "      - { at: 100, policy: degrade_route }\n"
                + "    degrade:\n      models: { gpt-4.1: gpt-4.1-mini }\n      route: economy\n"
                + "keys:\n"
                + key("support", SUPPORT) + key("ops", OPS) + key("agents", AGENTS) + key("saver", SAVER);
    }

    // ---- the checks

    @Test
    @Order(1)
    void jsonAnswerKeepsTheProvidersContentTypeAndIsSettledExactlyFromItsUsage() throws Exception {
        Settled s = probe.settled("support", provider, () -> {
            HttpResponse<String> r = send(chat(SUPPORT, false, 64));
            assertThat(r.statusCode()).as(r.body() + kit.errorLog()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
            JsonNode body = JSON.readTree(r.body());
            assertThat(body.path("object").asText()).isEqualTo("chat.completion");
            assertThat(body.path("usage").path("completion_tokens").asLong()).isPositive();
            // the provider got the provider credential, never the virtual key
            assertThat(provider.lastExchange().request().header("authorization")).isEqualTo("Bearer " + UPSTREAM_KEY);
        });
        s.assertExact();
    }

    @Test
    @Order(2)
    void anthropicMessagesAreSettledExactly() throws Exception {
        Settled s = probe.settled("support", provider, () -> {
            HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/messages"))
                    .header("x-api-key", SUPPORT).header("anthropic-version", "2023-06-01")
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"claude-haiku-4-5\",\"max_tokens\":64,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the budget.\"}]}"))
                    .build();
            HttpResponse<String> r = send(req);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
            assertThat(JSON.readTree(r.body()).path("type").asText()).isEqualTo("message");
            assertThat(provider.lastExchange().request().header("x-api-key")).isEqualTo(UPSTREAM_KEY);
        });
        s.assertExact();
    }

    @Test
    @Order(3)
    void streamArrivesEventByEventWithItsContentTypeAndIsSettledExactly() throws Exception {
        CountDownLatch clientSawFirstEvent = new CountDownLatch(1);
        AtomicBoolean heldBack = new AtomicBoolean();
        // the provider writes its second chunk only once the client has the first: a stream held
        // back anywhere on the way (buffering) makes this gate time out
        provider.pacer(index -> {
            if (index == 1 && !clientSawFirstEvent.await(30, TimeUnit.SECONDS)) {
                heldBack.set(true);
            }
            return true;
        });
        try {
            Settled s = probe.settled("support", provider, () -> {
                EventStream st = stream(chat(SUPPORT, true, 64), clientSawFirstEvent);
                assertThat(st.status()).isEqualTo(200);
                assertThat(st.contentType()).startsWith("text/event-stream");
                assertThat(st.events()).hasSizeGreaterThan(3);
                assertThat(st.events().get(st.events().size() - 1)).isEqualTo("data: [DONE]");
            });
            assertThat(heldBack).as("the first event reached the client before the provider sent the second").isFalse();
            s.assertExact();
        } finally {
            provider.pacer(StreamPacer.fixed(Duration.ofMillis(15)));
        }
    }

    @Test
    @Order(4)
    void timeToFirstEventIsThatOfTheSameUpstreamWithoutThePlugins() throws Exception {
        provider.pacer(StreamPacer.fixed(Duration.ofMillis(40)));
        try {
            // warm both paths once, then measure each twice and keep the better
            stream(chat(SUPPORT, true, 64), null);
            stream(bare(chat(SUPPORT, true, 64)), null);
            long budgeted = Long.MAX_VALUE;
            long without = Long.MAX_VALUE;
            long whole = Long.MAX_VALUE;
            for (int i = 0; i < 2; i++) {
                EventStream s = stream(chat(SUPPORT, true, 64), null);
                EventStream b = stream(bare(chat(SUPPORT, true, 64)), null);
                assertThat(s.status()).isEqualTo(200);
                assertThat(b.status()).isEqualTo(200);
                assertThat(b.events()).hasSameSizeAs(s.events());
                budgeted = Math.min(budgeted, s.firstEventNanos());
                without = Math.min(without, b.firstEventNanos());
                whole = Math.min(whole, b.totalNanos());
            }
            System.out.printf("time to first event: budgeted %d ms, without plugins %d ms; whole stream %d ms%n",
                    budgeted / 1_000_000, without / 1_000_000, whole / 1_000_000);
            // buffering would put the first event near the end of the stream: compare with the same
            // upstream without TokenBudget, allowing the budgeted path its admission call
            assertThat(budgeted).as("first event budgeted %d ms, without plugins %d ms, whole stream %d ms",
                    budgeted / 1_000_000, without / 1_000_000, whole / 1_000_000)
                    .isLessThan(without + whole / 2);
        } finally {
            provider.pacer(StreamPacer.fixed(Duration.ofMillis(15)));
        }
    }

    @Test
    @Order(5)
    void plainHttpUpstreamIsBudgetedAndSettledTheSameWay() throws Exception {
        Settled s = probe.settled("support", plain, () -> {
            HttpRequest req = HttpRequest.newBuilder(chat(SUPPORT, false, 32), (n, v) -> true)
                    .header("x-test-upstream", "plain").build();
            HttpResponse<String> r = send(req);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
            assertThat(plain.tally().requests()).isPositive();
        });
        s.assertExact();
    }

    @Test
    @Order(6)
    void unknownKeyIs401InTheProvidersShapeAndNeverReachesIt() throws Exception {
        long before = provider.tally().requests();
        HttpResponse<String> r = send(chat("sk-tb-not-a-key", false, 32));
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).contains("json"));
        assertThat(JSON.readTree(r.body()).path("error").path("message").asText()).isNotBlank();
        assertThat(provider.tally().requests()).isEqualTo(before);
    }

    @Test
    @Order(7)
    void exhaustedHardStopBudgetIs429WithRetryAfterAndAnOpenAiShapedBody() throws Exception {
        HttpResponse<String> last = null;
        for (int i = 0; i < 30; i++) {
            last = send(chat(AGENTS, false, 100));
            if (last.statusCode() != 200) {
                break;
            }
            awaitSettled("agents");
        }
        assertThat(last).isNotNull();
        assertThat(last.statusCode()).as(last.body()).isEqualTo(429);
        assertThat(last.headers().firstValue("retry-after")).hasValueSatisfying(v ->
                assertThat(Long.parseLong(v)).isPositive());
        assertThat(last.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).contains("json"));
        JsonNode error = JSON.readTree(last.body()).path("error");
        assertThat(error.path("message").asText()).isNotBlank();
        assertThat(error.path("type").asText()).isNotBlank();
    }

    @Test
    @Order(8)
    void degradedRequestsGoThroughTrafficSplitToTheEconomyUpstream() throws Exception {
        long economyBefore = economy.tally().requests();
        HttpResponse<String> r = null;
        for (int i = 0; i < 20 && economy.tally().requests() == economyBefore; i++) {
            r = send(chat(SAVER, false, 40));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            awaitSettled("saver");
        }
        assertThat(economy.tally().requests()).as("a degraded request reached the economy upstream")
                .isGreaterThan(economyBefore);
        assertThat(economy.lastExchange().request().header("x-tokenbudget-degraded-model")).isEqualTo("gpt-4.1-mini");
        assertThat(economy.lastExchange().request().header("authorization")).isEqualTo("Bearer " + UPSTREAM_KEY);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    }

    @Test
    @Order(9)
    void providerErrorReachesTheClientAndReleasesTheReservation() throws Exception {
        TokenCounts usedBefore = used("support");
        provider.failNext(500);
        HttpResponse<String> r = send(chat(SUPPORT, false, 32));
        assertThat(r.statusCode()).isEqualTo(500);
        assertThat(JSON.readTree(r.body()).path("error").path("message").asText()).contains("injected failure");
        awaitSettled("support");
        assertThat(used("support")).isEqualTo(usedBefore);
    }

    @Test
    @Order(10)
    void settleEndpointRefusesCallersWithoutTheSecret() throws Exception {
        int port = stack.settlePort();
        URI settle = URI.create("http://127.0.0.1:" + port + SettleEndpoint.PATH);
        String entry = "{\"request\":{\"headers\":{\"x-tokenbudget-request-id\":\"x\"}},\"response\":{\"status\":200}}";
        for (String auth : new String[] {null, "Bearer wrong-secret-of-some-length", SECRET}) {
            HttpRequest.Builder b = HttpRequest.newBuilder(settle).POST(HttpRequest.BodyPublishers.ofString(entry));
            if (auth != null) {
                b.header("Authorization", auth);
            }
            assertThat(HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        }
        HttpRequest ok = HttpRequest.newBuilder(settle).header("Authorization", "Bearer " + SECRET)
                .POST(HttpRequest.BodyPublishers.ofString(entry)).build();
        assertThat(HTTP.send(ok, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(204);
    }

    @Test
    @Order(11)
    void runnerKilledMidStreamIs503UntilBackAndTheLostSettlementIsChargedOnceAtLeaseExpiry() throws Exception {
        TokenCounts usedBefore = used("support");
        assertThat(reserved("support")).isEqualTo(TokenCounts.ZERO);
        CountDownLatch release = new CountDownLatch(1);
        provider.pacer(index -> index == 0 || release.await(60, TimeUnit.SECONDS));
        try {
            CountDownLatch firstEvent = new CountDownLatch(1);
            CompletableFuture<EventStream> inFlight = CompletableFuture.supplyAsync(() -> {
                try {
                    return stream(chat(SUPPORT, true, 64), firstEvent);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(firstEvent.await(30, TimeUnit.SECONDS)).as("the stream started").isTrue();
            TokenCounts held = reserved("support");
            assertThat(held.total()).isPositive();

            stack.runner().kill();
            release.countDown();
            EventStream st = inFlight.get(60, TimeUnit.SECONDS);
            // nginx proxies the stream: the runner is needed only to admit
            assertThat(st.status()).isEqualTo(200);
            assertThat(st.events().get(st.events().size() - 1)).isEqualTo("data: [DONE]");

            HttpResponse<String> down = send(chat(OPS, false, 32));
            assertThat(down.statusCode()).as("no runner: APISIX refuses rather than forward unbudgeted")
                    .isEqualTo(503);

            stack.restartRunner();
            // APISIX reconnects to the new runner on a later request: poll, bounded, until one is admitted
            AtomicReference<HttpResponse<String>> back = new AtomicReference<>();
            Poll.until(Duration.ofSeconds(10), Duration.ofMillis(250), () -> {
                try {
                    back.set(send(chat(OPS, false, 32)));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return back.get().statusCode() == 200;
            });
            assertThat(back.get().statusCode()).as(back.get().body() + stack.runner().log()).isEqualTo(200);

            // the stream's logged end went nowhere (or to a runner that never admitted it): its lease
            // ends and is charged at the reservation, once, by the new runner's sweep
            Poll.await("the lost reservation's lease to be charged", Duration.ofSeconds(90), Duration.ofMillis(500),
                    () -> reserved("support").equals(TokenCounts.ZERO));
            TokenCounts charged = minus(used("support"), usedBefore);
            assertThat(charged).isEqualTo(held);
        } finally {
            release.countDown();
            provider.pacer(StreamPacer.fixed(Duration.ofMillis(15)));
        }
    }

    // ---- helpers

    private static void awaitSettled(String budget) {
        Poll.await("nothing reserved on " + budget, Duration.ofSeconds(30), Duration.ofMillis(20),
                () -> reserved(budget).equals(TokenCounts.ZERO));
    }

    private static TokenCounts used(String budget) {
        return probe.used(budget);
    }

    private static TokenCounts reserved(String budget) {
        return probe.reserved(budget);
    }

    private static HttpRequest chat(String key, boolean stream, int maxTokens) {
        String body = "{\"model\":\"gpt-4.1\",\"max_tokens\":" + maxTokens + ",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"How do token budgets work?\"}]"
                + (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "") + "}";
        return HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("authorization", "Bearer " + key).header("content-type", "application/json")
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** The same request to the same upstream on the route without plugins, with the provider key itself. */
    private static HttpRequest bare(HttpRequest r) {
        return HttpRequest.newBuilder(r, (n, v) -> !n.equalsIgnoreCase("authorization"))
                .header("authorization", "Bearer " + UPSTREAM_KEY).header("x-test-route", "bare").build();
    }

    private static HttpResponse<String> send(HttpRequest r) throws Exception {
        return HTTP.send(r, HttpResponse.BodyHandlers.ofString());
    }

    private static EventStream stream(HttpRequest r, CountDownLatch onFirstEvent) throws Exception {
        return EventStream.read(HTTP, r, onFirstEvent);
    }

}
