package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.GatewayFixture;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.tokenbudget.envoy.EnvoySequences.anthropicKey;
import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/** Many HTTP streams at once on one channel, as Envoy multiplexes them: each settled exactly once. */
class ExtProcConcurrencyTest {

    private static final int THREADS = 8;
    private static final int STREAMS_PER_THREAD = 24;

    private final ExtProcFixture fx = new ExtProcFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void concurrentStreamsOfEveryKindSettleEveryUsageOnceAndLeaveNothingReserved() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Long>> expected = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            expected.add(pool.submit(() -> {
                start.await();
                long sum = 0;
                for (int i = 0; i < STREAMS_PER_THREAD; i++) {
                    sum += oneStream((thread * STREAMS_PER_THREAD + i) % 4);
                }
                return sum;
            }));
        }
        start.countDown();
        long total = 0;
        for (Future<Long> f : expected) {
            total += f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        fx.awaitNoOpenStreams();
        assertThat(total).isPositive();
        assertThat(fx.used("org")).isEqualTo(total);
        assertThat(fx.reserved("org")).isZero();
    }

    /** Runs one stream of kind {@code kind} and returns the tokens it must have settled. */
    private long oneStream(int kind) {
        try (EnvoyStream s = fx.stream()) {
            switch (kind) {
                case 0 -> {
                    EnvoySequences.full(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                            payload("openai-chat-stream-request.json"), "text/event-stream",
                            payload("openai-chat-stream.sse"), 7);
                    assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
                    return 842 + 31;
                }
                case 1 -> {
                    EnvoySequences.full(s, "/v1/messages", anthropicKey(GatewayFixture.MAIN),
                            payload("anthropic-messages-request.json"), "application/json",
                            payload("anthropic-messages-response.json"), 3);
                    assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
                    return 312 + 1500 + 2048 + 57;
                }
                case 2 -> {
                    var r = EnvoySequences.request(s, "/v1/chat/completions", bearer("sk-tb-unknown"),
                            payload("openai-chat-request.json"));
                    assertThat(r[0].getImmediateResponse().getStatus().getCodeValue()).isEqualTo(401);
                    return 0;
                }
                default -> {
                    // admitted, then the upstream never answers: released when Envoy ends the stream
                    EnvoySequences.request(s, "/v1/messages", anthropicKey(GatewayFixture.MAIN),
                            payload("anthropic-messages-stream-request.json"));
                    s.finish();
                    return 0;
                }
            }
        }
    }
}
