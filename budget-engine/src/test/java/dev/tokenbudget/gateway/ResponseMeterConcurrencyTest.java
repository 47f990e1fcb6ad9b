package dev.tokenbudget.gateway;

import dev.tokenbudget.provider.Payloads;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ResponseMeterConcurrencyTest {

    private static final String CHAT = "{\"model\":\"gpt-4.1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
            + "\"max_tokens\":50}";

    @Test
    void racingCompleteAndAbortSettleEachTicketExactlyOnce() throws Exception {
        GatewayFixture fx = new GatewayFixture();
        byte[] body = Payloads.bytes("openai/chat.json");
        ExecutorService pool = Executors.newFixedThreadPool(3);
        long expected = 0;
        int settledFully = 0;
        try {
            for (int i = 0; i < 200; i++) {
                Forward f = fx.forward(TestRequest.post("/v1/chat/completions", "Authorization", "Bearer "
                        + GatewayFixture.MAIN), CHAT);
                ResponseMeter m = f.meter();
                m.onResponseHeaders(200, "application/json");
                CountDownLatch go = new CountDownLatch(1);
                List<Callable<MeterResult>> racers = List.of(
                        () -> {
                            go.await();
                            m.onBytes(body, 0, body.length);
                            return m.complete();
                        },
                        () -> {
                            go.await();
                            return m.abort();
                        },
                        () -> {
                            go.await();
                            return m.complete();
                        });
                List<Future<MeterResult>> futures = new ArrayList<>();
                for (Callable<MeterResult> r : racers) {
                    futures.add(pool.submit(r));
                }
                go.countDown();
                List<MeterResult> results = new ArrayList<>();
                for (Future<MeterResult> r : futures) {
                    results.add(r.get(30, TimeUnit.SECONDS));
                }
                assertThat(results).allSatisfy(r -> assertThat(r).isSameAs(results.get(0)));
                MeterResult r = results.get(0);
                if (r.outcome() == MeterResult.Outcome.SETTLED) {
                    settledFully++;
                    expected += r.charged().totalTokens();
                } else {
                    // the body had not arrived when abort or complete won: charged at the reservation
                    assertThat(r.outcome()).isIn(MeterResult.Outcome.SETTLED_UNKNOWN);
                    expected += f.ticket().reservedInput() + f.ticket().reservedOutput();
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(fx.reserved("org")).isZero();
        assertThat(fx.used("org")).isEqualTo(expected);
        assertThat(settledFully).isBetween(0, 200);
    }
}
