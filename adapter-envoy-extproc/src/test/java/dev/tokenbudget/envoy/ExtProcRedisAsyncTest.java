package dev.tokenbudget.envoy;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.EngineFixture;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.store.redis.RedisTestServer;
import dev.tokenbudget.testing.Poll;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.tokenbudget.envoy.EnvoyMessages.observed;
import static dev.tokenbudget.envoy.EnvoyMessages.post;
import static dev.tokenbudget.envoy.EnvoyMessages.requestBody;
import static dev.tokenbudget.envoy.EnvoyMessages.requestHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;
import static dev.tokenbudget.envoy.EnvoyMessages.split;
import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The processor as {@code java -jar} builds it on a Redis store, with fewer callback threads
 * ({@code --grpc-threads 2}) than streams in flight: no callback thread waits for Redis. Redis is a
 * private server that {@code CLIENT PAUSE WRITE} holds, so the reservations stay in flight for as
 * long as the test says, whatever the machine's speed.
 */
class ExtProcRedisAsyncTest {

    private static final int CALLBACK_THREADS = 2;
    private static final byte[] REQUEST = payload("openai-chat-request.json");
    private static final byte[] RESPONSE = payload("openai-chat-response.json");
    /** What the provider reports for that exchange: prompt and completion tokens. */
    private static final long USAGE = 1187 + 46;

    @TempDir
    Path dir;

    private final RedisTestServer redis = RedisTestServer.start();
    private ExtProcServer server;
    private ManagedChannel channel;
    /** Tasks handed to the callback pool by the service's continuations ({@link #startCounting}). */
    private final AtomicInteger pooled = new AtomicInteger();

    @AfterEach
    void close() throws Exception {
        try {
            redis.command("CLIENT", "UNPAUSE");
        } finally {
            if (channel != null) {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            if (server != null) {
                server.drain(Duration.ofSeconds(5));
            }
            redis.close();
        }
    }

    @Test
    void streamsWaitingForRedisHoldNoCallbackThreadAndEachSettlesWhatTheProviderReported() throws Exception {
        String budgets = start("30s");
        int streams = 16 * CALLBACK_THREADS;
        List<EnvoyStream> open = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            EnvoyStream s = stream();
            assertThat(s.exchange(requestHeaders(post("/v1/chat/completions", REQUEST.length, bearer("sk-tb-shared")),
                    false, s.envoy().announced())).hasRequestHeaders()).isTrue();
            open.add(s);
        }
        assertThat(redis.command("CLIENT", "PAUSE", "120000", "WRITE")).isEqualTo("+OK");
        for (EnvoyStream s : open) {
            s.send(requestBody(REQUEST, true)); // each admission now waits for Redis
        }
        // a stream that needs no store is answered while every admission is still in flight: had the
        // admissions held the two callback threads, its messages would queue behind them
        try (EnvoyStream probe = stream()) {
            ProcessingResponse refused = probe.exchange(requestHeaders(post("/v1/chat/completions", REQUEST.length,
                    bearer("sk-tb-unknown")), false, probe.envoy().announced()));
            assertThat(refused.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(401);
        }
        for (EnvoyStream s : open) {
            assertThat(s.arrivals()).as("only the request headers are answered while Redis is paused").isEqualTo(1);
        }
        assertThat(redis.command("CLIENT", "UNPAUSE")).isEqualTo("+OK");

        ExecutorService envoyWorkers = Executors.newFixedThreadPool(8);
        List<Future<Status>> ends = new ArrayList<>();
        for (EnvoyStream s : open) {
            ends.add(envoyWorkers.submit(() -> {
                try (s) {
                    ProcessingResponse body = s.next();
                    assertThat(body.hasRequestBody()).as("forwarded: %s", body).isTrue();
                    assertThat(s.exchange(responseHeaders(200, "application/json", false)).hasResponseHeaders())
                            .isTrue();
                    List<byte[]> chunks = split(RESPONSE, 3);
                    for (int i = 0; i < chunks.size(); i++) {
                        assertThat(s.exchange(responseBody(chunks.get(i), i == chunks.size() - 1)).hasResponseBody())
                                .isTrue();
                    }
                    return s.awaitClosed();
                }
            }));
        }
        for (Future<Status> f : ends) {
            assertThat(f.get(60, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
        }
        envoyWorkers.shutdown();
        try (BudgetEngine other = BudgetEngine.builder(ConfigLoader.parse(budgets)).build()) {
            // the settles go out without waiting for Redis: they land shortly after the streams end
            Poll.until(Duration.ofSeconds(20), () -> used(other, "org") == streams * USAGE);
            assertThat(used(other, "org")).isEqualTo(streams * USAGE);
            assertThat(other.status("org").orElseThrow().windows().get(0).reserved().total()).isZero();
        }
    }

    /**
     * In observability mode Envoy waits for no answer: the response, and the stream's end, arrive
     * while the store is still deciding the admission. They are metered once it is in.
     */
    @Test
    void observabilityModeMetersTheResponseThatArrivedWhileRedisWasDeciding() throws Exception {
        String budgets = start("30s");
        byte[] request = payload("openai-chat-stream-request.json");
        List<EnvoyStream> open = new ArrayList<>();
        for (int i = 0; i < 4 * CALLBACK_THREADS; i++) {
            EnvoyStream s = new EnvoyStream(channel, EnvoyRules.untimed().with(f -> f.setObservabilityMode(true)
                    .getProcessingModeBuilder().setRequestBodyMode(BodySendMode.STREAMED)
                    .setResponseBodyMode(BodySendMode.STREAMED)).filter());
            s.send(observed(requestHeaders(post("/v1/chat/completions", request.length, bearer("sk-tb-shared")), false,
                    null)));
            open.add(s);
        }
        assertThat(redis.command("CLIENT", "PAUSE", "120000", "WRITE")).isEqualTo("+OK");
        for (EnvoyStream s : open) {
            s.send(observed(requestBody(request, true)));
            s.send(observed(responseHeaders(200, "text/event-stream", false)));
            List<byte[]> parts = split(payload("openai-chat-stream.sse"), 5);
            for (int i = 0; i < parts.size(); i++) {
                s.send(observed(responseBody(parts.get(i), i == parts.size() - 1)));
            }
            s.halfClose(); // Envoy's stream ends before the admission does
        }
        try (EnvoyStream probe = stream()) {
            // the callback threads are free: the held messages wait, not a thread
            probe.exchange(requestHeaders(post("/v1/chat/completions", 2, bearer("sk-tb-unknown")), false,
                    probe.envoy().announced()));
        }
        for (EnvoyStream s : open) {
            assertThat(s.isClosed()).as("no stream ends before its admission").isFalse();
        }
        assertThat(redis.command("CLIENT", "UNPAUSE")).isEqualTo("+OK");
        for (EnvoyStream s : open) {
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
            assertThat(s.pendingAnswers()).isZero();
            s.close();
        }
        try (BudgetEngine other = BudgetEngine.builder(ConfigLoader.parse(budgets)).build()) {
            long expected = open.size() * (842L + 31);
            Poll.until(Duration.ofSeconds(20), () -> used(other, "org") == expected);
            assertThat(used(other, "org")).isEqualTo(expected);
            assertThat(other.status("org").orElseThrow().windows().get(0).reserved().total()).isZero();
        }
    }

    /**
     * The admissions' failure path on the asynchronous store calls: Redis stops answering between
     * a stream's request headers and its body, each reservation times out, and each budget's fail
     * mode decides.
     */
    @Test
    void aStoreThatStopsAnsweringMidStreamAdmitsFailOpenBudgetsAndRefusesFailClosedOnes() throws Exception {
        start("300ms");
        List<EnvoyStream> open = new ArrayList<>();
        List<EnvoyStream> closed = new ArrayList<>();
        for (int i = 0; i < 4 * CALLBACK_THREADS; i++) {
            for (List<EnvoyStream> side : List.of(open, closed)) {
                EnvoyStream s = stream();
                String key = side == open ? "sk-tb-shared" : "sk-tb-strict";
                s.exchange(requestHeaders(post("/v1/chat/completions", REQUEST.length, bearer(key)), false,
                        s.envoy().announced()));
                side.add(s);
            }
        }
        // Redis stops answering after the request headers: every reservation times out
        assertThat(redis.command("CLIENT", "PAUSE", "120000", "WRITE")).isEqualTo("+OK");
        for (EnvoyStream s : open) {
            s.send(requestBody(REQUEST, true));
        }
        for (EnvoyStream s : closed) {
            s.send(requestBody(REQUEST, true));
        }
        for (EnvoyStream s : closed) {
            ProcessingResponse r = s.next();
            assertThat(r.getImmediateResponse().getStatus().getCodeValue()).as("fail closed: %s", r).isEqualTo(503);
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        }
        for (EnvoyStream s : open) {
            assertThat(s.next().hasRequestBody()).as("fail open: forwarded uncounted").isTrue();
            // the response goes on while Redis is still away: the settle neither blocks nor breaks the stream
            s.exchange(responseHeaders(200, "application/json", false));
            s.exchange(responseBody(RESPONSE, true));
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
            s.close();
        }
    }

    /**
     * Where an admission that Redis decides goes on: a forward's answer is built and handed to gRPC
     * on the thread that completed the reservation (no hop to the callback pool), everything else
     * (here a refusal, which ends the stream and logs it) on the callback pool.
     */
    @Test
    void forwardsDecidedByRedisAnswerOnTheDecidingThreadAndRefusalsGoToTheCallbackPool() throws Exception {
        startCounting();
        List<EnvoyStream> forwarded = open("sk-tb-roomy", 6);
        List<EnvoyStream> refused = open("sk-tb-tiny", 3);
        assertThat(redis.command("CLIENT", "PAUSE", "120000", "WRITE")).isEqualTo("+OK");
        for (EnvoyStream s : forwarded) {
            s.send(requestBody(REQUEST, true));
        }
        for (EnvoyStream s : refused) {
            s.send(requestBody(REQUEST, true));
        }
        assertThat(redis.command("CLIENT", "UNPAUSE")).isEqualTo("+OK");

        for (EnvoyStream s : refused) {
            ProcessingResponse r = s.next();
            // more than the budget's whole limit: Redis's reserve refuses it, 400 request_exceeds_budget_limit
            assertThat(r.getImmediateResponse().getStatus().getCodeValue()).as("refused: %s", r).isEqualTo(400);
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
            s.close();
        }
        for (EnvoyStream s : forwarded) {
            ProcessingResponse body = s.next();
            assertThat(body.hasRequestBody()).as("forwarded: %s", body).isTrue();
            assertThat(s.exchange(responseHeaders(200, "application/json", false)).hasResponseHeaders()).isTrue();
            assertThat(s.exchange(responseBody(RESPONSE, true)).hasResponseBody()).isTrue();
            assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
            s.close();
        }
        // the refusals went to the pool, one task each; the forwards did not
        assertThat(pooled.get()).isEqualTo(refused.size());
    }

    /**
     * With the example's timers (1 s, at most 5 s) a reservation on its way to Redis asks Envoy for
     * more time only once half of {@code message_timeout} has passed: a prompt answer goes out
     * alone (one message per message of Envoy's), a late one after the override.
     */
    @Test
    void aRedisAdmissionAsksForMoreTimeOnlyWhenItsDecisionIsLate() throws Exception {
        start("30s", new MessageTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(5)));
        try (EnvoyStream prompt = stream()) {
            prompt.exchange(requestHeaders(post("/v1/chat/completions", REQUEST.length, bearer("sk-tb-shared")), false,
                    prompt.envoy().announced()));
            assertThat(prompt.exchange(requestBody(REQUEST, true)).hasRequestBody()).isTrue();
            assertThat(prompt.exchange(responseHeaders(200, "application/json", false)).hasResponseHeaders()).isTrue();
            assertThat(prompt.exchange(responseBody(RESPONSE, true)).hasResponseBody()).isTrue();
            assertThat(prompt.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
            assertThat(prompt.arrivals()).as("no override_message_timeout: Redis answered in time").isEqualTo(4);
        }
        try (EnvoyStream late = stream()) {
            late.exchange(requestHeaders(post("/v1/chat/completions", REQUEST.length, bearer("sk-tb-shared")), false,
                    late.envoy().announced()));
            assertThat(redis.command("CLIENT", "PAUSE", "120000", "WRITE")).isEqualTo("+OK");
            long sent = System.nanoTime();
            late.send(requestBody(REQUEST, true));
            assertThat(Poll.until(Duration.ofSeconds(10), () -> late.arrivals() == 2)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).as("asked at half of message_timeout")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(500));
            assertThat(redis.command("CLIENT", "UNPAUSE")).isEqualTo("+OK");
            // EnvoyRules: the override restarts the body's timer at 5 s, then the forward is applied
            assertThat(late.next().hasRequestBody()).isTrue();
            assertThat(late.arrivals()).isEqualTo(3);
        }
    }

    private List<EnvoyStream> open(String key, int n) {
        List<EnvoyStream> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            EnvoyStream s = new EnvoyStream(channel, EnvoyRules.untimed().filter());
            assertThat(s.exchange(requestHeaders(post("/v1/chat/completions", REQUEST.length, bearer(key)), false,
                    s.envoy().announced())).hasRequestHeaders()).isTrue();
            out.add(s);
        }
        return out;
    }

    /** The service on its own callback pool, {@link #pooled} counting what is handed to it. */
    private void startCounting() {
        BudgetEngine engine = BudgetEngine.builder(ConfigLoader.parse("""
                store: { type: redis, redis: { uri: "%s", timeout: 30s, key_prefix: tb } }
                budgets:
                  - id: roomy
                    windows: [{ period: month, limits: { total: 100M } }]
                  - id: tiny
                    windows: [{ period: month, limits: { total: 10 } }]
                keys:
                  - { name: roomy, sha256: %s, budget: roomy }
                  - { name: tiny, sha256: %s, budget: tiny }
                """.formatted(redis.uri(), EngineFixture.sha("sk-tb-roomy"), EngineFixture.sha("sk-tb-tiny"))))
                .build();
        ExecutorService callbacks = ExtProcServer.callbackPool(2);
        ExtProcService service = new ExtProcService(new BudgetGateway(engine, GatewayOptions.custom().build()),
                MessageTimeouts.ENVOY_DEFAULTS, r -> {
                    pooled.incrementAndGet();
                    callbacks.execute(r);
                });
        server = new ExtProcServer(new InetSocketAddress("127.0.0.1", 0), service, service::openStreams, 32 << 20,
                callbacks, engine).start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    }

    /** Starts the server on the private Redis; returns the config (for a second engine on it). */
    private String start(String storeTimeout) throws Exception {
        return start(storeTimeout, MessageTimeouts.ENVOY_DEFAULTS);
    }

    private String start(String storeTimeout, MessageTimeouts timeouts) throws Exception {
        String config = """
                store: { type: redis, redis: { uri: "%s", timeout: %s, key_prefix: tb } }
                budgets:
                  - id: org
                    on_store_failure: open
                    windows: [{ period: month, limits: { total: 100M } }]
                  - id: strict
                    on_store_failure: closed
                    windows: [{ period: month, limits: { total: 100M } }]
                keys:
                  - { name: shared, sha256: %s, budget: org }
                  - { name: strict, sha256: %s, budget: strict }
                """.formatted(redis.uri(), storeTimeout, EngineFixture.sha("sk-tb-shared"),
                EngineFixture.sha("sk-tb-strict"));
        Path cfg = dir.resolve("tokenbudget.yaml");
        Files.writeString(cfg, config);
        server = ExtProcMain.server(new ExtProcMain.ExtProcSettings(cfg, "127.0.0.1", 0, -1, null, null,
                Duration.ZERO, Duration.ofSeconds(5), 32 << 20, CALLBACK_THREADS, timeouts)).start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        return config;
    }

    private EnvoyStream stream() {
        return new EnvoyStream(channel, EnvoyRules.untimed().filter());
    }

    private static long used(BudgetEngine engine, String budget) {
        return engine.status(budget).orElseThrow().windows().get(0).used().total();
    }
}
