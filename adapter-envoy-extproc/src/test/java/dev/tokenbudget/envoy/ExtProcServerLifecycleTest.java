package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.GatewayFixture;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.tokenbudget.envoy.EnvoyMessages.responseBody;
import static dev.tokenbudget.envoy.EnvoyMessages.responseHeaders;
import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/** grpc.health.v1 and the drain SIGTERM runs: finish open streams, refuse new ones, cancel leftovers. */
class ExtProcServerLifecycleTest {

    private final ExtProcFixture fx = new ExtProcFixture();

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void healthIsServingForTheServerAndTheExtProcService() {
        assertThat(health("")).isEqualTo(ServingStatus.SERVING);
        assertThat(health(ExtProcServer.HEALTH_SERVICE)).isEqualTo(ServingStatus.SERVING);
    }

    @Test
    void drainLetsAnOpenStreamFinishAndRefusesNewStreams() throws Exception {
        EnvoyStream open = fx.stream();
        EnvoySequences.request(open, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                payload("openai-chat-request.json"));
        CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> fx.server.drain(Duration.ofMinutes(2)));
        // once the server has stopped taking calls, a new stream is refused
        Status refused = null;
        for (int i = 0; i < 1000 && refused == null; i++) {
            try {
                health("");
                ExtProcFixture.sleepBriefly();
            } catch (StatusRuntimeException e) {
                refused = e.getStatus();
            }
        }
        assertThat(refused).isNotNull();
        assertThat(refused.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(drained).isNotDone();
        // the open stream goes on to its end
        open.exchange(responseHeaders(200, "application/json", false));
        open.exchange(responseBody(payload("openai-chat-response.json"), true));
        assertThat(open.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
        assertThat(drained.get(60, TimeUnit.SECONDS)).isTrue();
        assertThat(fx.used("org")).isEqualTo(1187 + 46);
    }

    @Test
    void drainCancelsStreamsStillOpenAtTheTimeoutAndReleasesTheirReservations() {
        EnvoyStream stuck = fx.stream();
        EnvoySequences.request(stuck, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                payload("openai-chat-request.json"));
        assertThat(fx.reserved("org")).isPositive();
        assertThat(fx.server.drain(Duration.ofMillis(100))).isFalse();
        assertThat(stuck.awaitClosed().getCode()).isEqualTo(Status.Code.CANCELLED);
        fx.awaitNoOpenStreams();
        assertThat(fx.reserved("org")).isZero();
    }

    @Test
    void duringTheNoticePeriodHealthSaysNotServingWhileStreamsAreStillServed() throws Exception {
        AtomicReference<Thread> drainer = new AtomicReference<>();
        CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
            drainer.set(Thread.currentThread());
            return fx.server.drain(Duration.ofHours(1), Duration.ofSeconds(30));
        });
        ServingStatus st = ServingStatus.SERVING;
        for (int i = 0; i < 1000 && st == ServingStatus.SERVING; i++) {
            st = health(ExtProcServer.HEALTH_SERVICE);
            ExtProcFixture.sleepBriefly();
        }
        assertThat(st).isEqualTo(ServingStatus.NOT_SERVING);
        try (EnvoyStream s = fx.stream()) {
            var a = EnvoySequences.full(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                    payload("openai-chat-request.json"), "application/json", payload("openai-chat-response.json"), 2);
            assertThat(a.responseBody()).hasSize(2);
        }
        drainer.get().interrupt(); // cut the notice short
        assertThat(drained.get(60, TimeUnit.SECONDS)).isTrue();
    }

    private ServingStatus health(String service) {
        return HealthGrpc.newBlockingStub(fx.channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
    }
}
