package dev.tokenbudget.apisix;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.gateway.Identified;
import dev.tokenbudget.gateway.TestRequest;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.testing.Together;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** What happens to a reservation between the two phases: tracked, settled once, never leaked. */
class ReservationLifecycleTest extends RouteTestSupport {

    private static final String BODY = "openai-chat-request.json";

    private A6Client.Request chat(String requestId, byte[] body) {
        return new A6Client.Request("POST", "/v1/chat/completions",
                Map.of("authorization", "Bearer sk-tb-apisix-support", "content-type", "application/json"),
                Map.of(), Map.of("request_id", requestId), body);
    }

    @Test
    void reservationWhoseLoggedResponseNeverComesIsChargedInFullWhenItsLeaseEndsAndOnlyOnce() throws Exception {
        A6Client.ReqCallAnswer a = admit("lost#pre", "00000000000000000000000000000042");
        assertThat(a.rewriteHeaders()).containsKey("authorization")
                .containsEntry(TokenBudgetPlugin.REQUEST_ID_HEADER, "00000000000000000000000000000042");
        TokenCounts held = reserved("support");
        assertThat(held.total()).isPositive();

        // the logger's entry was lost (retries ran out, APISIX stopped): the lease ends
        int settled = plugin().sweep(Instant.now().plus(Duration.ofMinutes(11)));

        assertThat(settled).isEqualTo(1);
        assertThat(reserved("support")).isEqualTo(TokenCounts.ZERO);
        assertThat(used("support")).isEqualTo(held);

        // an entry arriving after all (a late retry) finds nothing to settle: no double count
        assertThat(postEntry("00000000000000000000000000000042", 200, payload("openai-chat-response.json")))
                .isEqualTo(204);
        assertThat(used("support")).isEqualTo(held);
    }

    /** The pre-request call of one chat request with this nginx {@code $request_id}, on a route of its own. */
    private A6Client.ReqCallAnswer admit(String route, String requestId) throws Exception {
        try (A6Client client = SharedRunner.get().client()) {
            long pre = client.prepareConf(route, List.of(Map.entry("TokenBudget",
                    "{\"config\":" + Json.quote(engineConfig.toString()) + "}")));
            return client.httpReqCall(pre, chat(requestId, payload(BODY)));
        }
    }

    @Test
    void aRetriedEntrySettlesOnce() throws Exception {
        admit("retried#pre", "000000000000000000000000000000cc");
        for (int i = 0; i < 3; i++) {
            assertThat(postEntry("000000000000000000000000000000cc", 200, payload("openai-chat-response.json")))
                    .isEqualTo(204);
        }
        assertThat(used("support")).isEqualTo(TokenCounts.of(48, 27));
        assertThat(reserved("support")).isEqualTo(TokenCounts.ZERO);
    }

    @Test
    void concurrentRetriesOfOneEntryRacingTheLeaseSweepChargeItOnce() throws Exception {
        admit("race#pre", "000000000000000000000000000000ee");
        TokenCounts held = reserved("support");
        // six deliveries of the same entry (the logger's retries) and a sweep past the lease, at once
        List<Integer> answers = new CopyOnWriteArrayList<>();
        Together.run(7, i -> {
            try {
                if (i == 6) {
                    plugin().sweep(Instant.now().plus(Duration.ofMinutes(11)));
                } else {
                    answers.add(postEntry("000000000000000000000000000000ee", 200,
                            payload("openai-chat-response.json")));
                }
            } catch (Exception e) {
                answers.add(-1);
            }
        });

        assertThat(answers).hasSize(6).containsOnly(204);
        assertThat(reserved("support")).isEqualTo(TokenCounts.ZERO);
        // whichever came first charged it, the others found nothing
        assertThat(used("support")).isIn(TokenCounts.of(48, 27), held);
    }

    @Test
    void tokenBudgetNamedInPostRespPassesTheResponseOnAndAsksForNoBody() throws Exception {
        String conf = "{\"config\":" + Json.quote(engineConfig.toString()) + "}";
        try (A6Client client = SharedRunner.get().client()) {
            long pre = client.prepareConf("misnamed#pre", List.of(Map.entry("TokenBudget", conf)));
            long post = client.prepareConf("misnamed#post", List.of(Map.entry("TokenBudget", conf)));
            client.httpReqCall(pre, chat("000000000000000000000000000000bb", payload(BODY)));
            TokenCounts held = reserved("support");

            A6Client.RespCallAnswer a = client.httpRespCall(post, chat("000000000000000000000000000000bb", null),
                    new A6Client.UpstreamResponse(200, Map.of(), payload("openai-chat-response.json")));

            assertThat(a.infosAsked()).doesNotContain(io.github.api7.A6.ExtraInfo.Info.RespBody);
            assertThat(a.body()).isNull();
            // still waiting for its logged response, which settles it
            assertThat(reserved("support")).isEqualTo(held);
        }
        assertThat(postEntry("000000000000000000000000000000bb", 200, payload("openai-chat-response.json")))
                .isEqualTo(204);
        assertThat(used("support")).isEqualTo(TokenCounts.of(48, 27));
    }

    /** Posts an http-logger entry for {@code requestId} to the settle endpoint, as APISIX would. */
    private static int postEntry(String requestId, int status, byte[] body) throws Exception {
        String entry = "{\"request\":{\"headers\":{\"" + TokenBudgetPlugin.REQUEST_ID_HEADER + "\":\"" + requestId
                + "\"}},\"response\":{\"status\":" + status + ",\"headers\":{\"content-type\":\"application/json\"},"
                + "\"body\":" + Json.quote(new String(body, StandardCharsets.UTF_8)) + "}}";
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + plugin().settlePort()
                        + SettleEndpoint.PATH))
                .header("Authorization", "Bearer " + System.getenv("TOKENBUDGET_SETTLE_SECRET"))
                .POST(HttpRequest.BodyPublishers.ofString(entry)).build();
        return HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void geminiKeyInTheQueryIsAuthenticatedAndRemovedBeforeTheRequestGoesUpstream() throws Exception {
        String conf = "{\"config\":" + Json.quote(engineConfig.toString()) + ",\"settle\":\"estimate\"}";
        byte[] body = ("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hallo\"}]}],"
                + "\"generationConfig\":{\"maxOutputTokens\":50}}").getBytes(StandardCharsets.UTF_8);
        try (A6Client client = SharedRunner.get().client()) {
            long pre = client.prepareConf("gemini#pre", List.of(Map.entry("TokenBudget", conf)));
            A6Client.ReqCallAnswer a = client.httpReqCall(pre, new A6Client.Request("POST",
                    "/v1beta/models/gemini-2.5-pro:generateContent", Map.of("content-type", "application/json"),
                    Map.of("key", "sk-tb-apisix-support", "alt", "json"), Map.of("request_id", "c".repeat(32)), body));

            assertThat(a.stopped()).as(a.bodyText()).isFalse();
            assertThat(a.rewriteArgs()).containsEntry("key", null).doesNotContainKey("alt");
            assertThat(a.rewritePath()).isNull();
        }
        assertThat(used("support").output()).isEqualTo(50);
    }

    @Test
    void estimateRouteSettlesAtAdmissionAndKeepsNothingInFlight() throws Exception {
        int before = plugin().inFlight();
        try (A6Client client = SharedRunner.get().client()) {
            long pre = client.prepareConf("estimate#pre", List.of(Map.entry("TokenBudget",
                    "{\"config\":" + Json.quote(engineConfig.toString()) + ",\"settle\":\"estimate\"}")));
            A6Client.ReqCallAnswer a = client.httpReqCall(pre, chat("000000000000000000000000000000dd",
                    payload("openai-chat-stream-request.json")));
            assertThat(a.stopped()).isFalse();
        }
        // input estimate plus the 60-token ceiling, charged at admission
        assertThat(reserved("support")).isEqualTo(TokenCounts.ZERO);
        assertThat(used("support").output()).isEqualTo(60);
        assertThat(used("support").input()).isPositive();
        assertThat(plugin().inFlight()).isEqualTo(before);
    }

    @Test
    void utf8BodyIsReadAsTheBytesTheClientSentNotAsTheRunnersLatin1String() throws Exception {
        byte[] body = payload(BODY);
        try (A6Client client = SharedRunner.get().client()) {
            long pre = client.prepareConf("utf8#pre", List.of(Map.entry("TokenBudget",
                    "{\"config\":" + Json.quote(engineConfig.toString()) + ",\"settle\":\"estimate\"}")));
            client.httpReqCall(pre, chat("000000000000000000000000000000aa", body));
        }
        long charged = used("support").input();

        assertThat(charged).isEqualTo(directEstimate(body));
        // the payload is one where mis-decoding shows: as ISO-8859-1 text it estimates differently
        byte[] mangled = new String(body, StandardCharsets.ISO_8859_1).getBytes(StandardCharsets.UTF_8);
        assertThat(directEstimate(mangled)).isNotEqualTo(charged);
    }

    /** The input the gateway layer reserves for {@code body} on a fresh engine of the same config. */
    private long directEstimate(byte[] body) {
        try (BudgetEngine engine = BudgetEngine.builder(ConfigLoader.load(engineConfig)).build()) {
            BudgetGateway g = new BudgetGateway(engine, GatewayOptions.ofDefaults());
            Identified id = (Identified) g.identify(TestRequest.post("/v1/chat/completions", "Authorization",
                    "Bearer sk-tb-apisix-support"));
            Forward f = (Forward) g.admit(id, body);
            return f.ticket().reservedInput();
        }
    }

    @Test
    void concurrentRequestsOnManyConnectionsAreEachSettledOnceFromTheirOwnResponse() throws Exception {
        openai.answer(FakeUpstream.Answer.ofResource(200, "application/json", "/payloads/openai-chat-response.json"));
        int threads = 8;
        int perThread = 12;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    int ok = 0;
                    try (MiniApisix apisix = openAiRoute()) {
                        for (int i = 0; i < perThread; i++) {
                            MiniApisix.Result r = apisix.send("POST", "/v1/chat/completions",
                                    Map.of("authorization", "Bearer sk-tb-apisix-support"), payload(BODY));
                            ok += r.status() == 200 ? 1 : 0;
                        }
                    }
                    return ok;
                }));
            }
            int ok = 0;
            for (Future<Integer> f : done) {
                ok += f.get(120, TimeUnit.SECONDS);
            }
            assertThat(ok).isEqualTo(threads * perThread);
        } finally {
            pool.shutdownNow();
        }
        int n = threads * perThread;
        assertThat(used("support")).isEqualTo(TokenCounts.of(48L * n, 27L * n));
        assertThat(reserved("support")).isEqualTo(TokenCounts.ZERO);
        assertThat(openai.received()).hasSize(n);
    }
}
