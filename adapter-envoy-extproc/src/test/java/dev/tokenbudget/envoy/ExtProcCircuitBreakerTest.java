package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.GatewayFixture;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers.Thresholds;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;
import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * 2,000 LLM requests in flight at once, each holding its ext_proc stream from the request headers
 * to the end of its response, on one real HTTP/2 channel as Envoy's {@code envoy_grpc} client opens
 * them, counted against the circuit breaker of the example's {@code tokenbudget_extproc} cluster.
 */
class ExtProcCircuitBreakerTest {

    private static final int CONCURRENT = 2_000;
    private static final int THREADS = 8;

    /** Envoy's default thresholds (cluster.proto CircuitBreakers.Thresholds) when a cluster sets none. */
    private static final int DEFAULT_MAX_REQUESTS = 1024;

    private final ExtProcFixture fx = new ExtProcFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    /**
     * The cluster's active-request budget as Envoy keeps it: a new stream is refused (the ext_proc
     * call fails, 500 with fail-closed) once {@code max_requests} are open. Mirrors
     * source/common/upstream/resource_manager_impl.h, ManagedResourceImpl::canCreate.
     */
    private static final class Breaker {
        final int max;
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();

        Breaker(int max) {
            this.max = max;
        }

        void open() {
            int now = open.incrementAndGet();
            if (now > max) {
                open.decrementAndGet();
                throw new AssertionError("Envoy: circuit breaker open: " + now + " > max_requests " + max
                        + " [resource_manager_impl.h ManagedResourceImpl::canCreate]");
            }
            peak.accumulateAndGet(now, Math::max);
        }

        void close() {
            open.decrementAndGet();
        }
    }

    private static Breaker exampleBreaker() throws Exception {
        var bootstrap = EnvoyBootstrapFile.parse(Files.readString(EnvoyBootstrapFile.example()));
        Cluster c = bootstrap.getStaticResources().getClustersList().stream()
                .filter(x -> x.getName().equals("tokenbudget_extproc")).findFirst().orElseThrow();
        Thresholds t = c.getCircuitBreakers().getThresholdsList().stream()
                .filter(x -> x.getPriority() == RoutingPriority.DEFAULT).findFirst().orElse(null);
        return new Breaker(t != null && t.hasMaxRequests() ? t.getMaxRequests().getValue() : DEFAULT_MAX_REQUESTS);
    }

    @Test
    void twoThousandConcurrentStreamsFitTheExamplesThresholdsAndAreEachSettledOnce() throws Exception {
        Breaker breaker = exampleBreaker();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<EnvoyStream> open = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> opened = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                opened.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < CONCURRENT / THREADS; i++) {
                        breaker.open();
                        EnvoyStream s = fx.stream();
                        open.add(s);
                        var r = EnvoySequences.request(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                                payload("openai-chat-request.json"));
                        assertThat(r[1].hasRequestBody()).isTrue();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : opened) {
                f.get(5, TimeUnit.MINUTES);
            }
            // every request admitted and waiting for its response: all streams open at once
            assertThat(breaker.peak.get()).isEqualTo(CONCURRENT);
            assertThat(fx.service.openStreams()).isEqualTo(CONCURRENT);
            assertThat(fx.reserved("org")).isPositive();
            List<Future<?>> finished = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int from = t;
                finished.add(pool.submit(() -> {
                    for (int i = from; i < open.size(); i += THREADS) {
                        EnvoyStream s = open.get(i);
                        s.exchange(responseHeaders(200, "application/json", false));
                        s.exchange(responseBody(payload("openai-chat-response.json"), true));
                        assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
                        breaker.close();
                    }
                    return null;
                }));
            }
            for (Future<?> f : finished) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        fx.awaitNoOpenStreams();
        assertThat(fx.used("org")).isEqualTo((long) CONCURRENT * (1187 + 46));
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void theExamplesThresholdsLeaveRoomForLongLivedStreamsBeyondEnvoysDefault() throws Exception {
        Breaker b = exampleBreaker();
        assertThat(b.max).isGreaterThanOrEqualTo(CONCURRENT).isGreaterThan(DEFAULT_MAX_REQUESTS);
    }
}
