package dev.tokenbudget.alert;

import dev.tokenbudget.alert.sink.SlackSink;
import dev.tokenbudget.alert.sink.WebhookSink;
import dev.tokenbudget.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class AlertDispatcherTest {

    /** Records what it exports. */
    static final class Recording implements AlertSink {
        final List<Alert> got = new CopyOnWriteArrayList<>();

        @Override
        public String name() {
            return "recording";
        }

        @Override
        public SinkResult export(Alert alert) {
            got.add(alert);
            return SinkResult.SUCCESS;
        }
    }

    @Test
    void aHangingSinkDelaysNeitherThePublisherNorTheOtherSinks() throws Exception {
        try (LoopbackHttpServer hanging = new LoopbackHttpServer().hang()) {
            Recording other = new Recording();
            AlertDispatcher d = AlertDispatcher.builder()
                    .sink(new SlackSink("slack-hangs", hanging.uri("/hook"), Duration.ofSeconds(60)))
                    .sink(other).queueSize(10).build();
            d.publish(Alerts.threshold(75));
            assertThat(hanging.awaitRequests(1)).isTrue(); // the Slack server now holds that request
            for (int i = 0; i < 24; i++) {
                d.publish(Alerts.threshold(75));
            }
            // the publisher got here while the Slack server still holds the first request,
            // and the other sink is served all the same
            assertThat(Poll.until(Duration.ofSeconds(30), () -> other.got.size() + d.stats().get(1).dropped() == 25))
                    .isTrue();
            assertThat(other.got.size()).isGreaterThanOrEqualTo(10);
            AlertDispatcher.SinkStats slack = d.stats().get(0);
            assertThat(slack.delivered()).isZero();
            // one in flight, ten queued, the rest dropped and counted
            assertThat(slack.queued()).isEqualTo(10);
            assertThat(slack.dropped()).isEqualTo(14);
            assertThat(hanging.received()).hasSize(1);
            hanging.release();
            assertThat(d.flush(Duration.ofSeconds(30))).isTrue();
            assertThat(d.stats().get(0).delivered()).isEqualTo(11);
            d.shutdown(Duration.ofSeconds(5));
        }
    }

    @Test
    void aFailingSinkIsRetriedWithBackoffThenGivenUp() throws Exception {
        try (LoopbackHttpServer failing = new LoopbackHttpServer().answer(500, "down")) {
            AlertDispatcher d = AlertDispatcher.builder()
                    .sink(new WebhookSink("webhook-500", failing.uri("/a"), new byte[32], Duration.ofSeconds(5)))
                    .maxAttempts(4).backoff(Duration.ofMillis(1), Duration.ofMillis(4)).build();
            assertThat(d.publish(Alerts.threshold(90))).isEqualTo(1);
            assertThat(d.flush(Duration.ofSeconds(30))).isTrue();
            assertThat(failing.received()).hasSize(4);
            AlertDispatcher.SinkStats s = d.stats().get(0);
            assertThat(s.retries()).isEqualTo(3);
            assertThat(s.failed()).isEqualTo(1);
            assertThat(s.delivered()).isZero();
            // a sink that recovers delivers the next alert at once
            failing.answer(200, "ok");
            d.publish(Alerts.threshold(100));
            assertThat(d.flush(Duration.ofSeconds(30))).isTrue();
            assertThat(d.stats().get(0).delivered()).isEqualTo(1);
            d.close();
        }
    }

    @Test
    void aPermanentFailureIsNotRetried() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        AlertSink broken = new AlertSink() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public SinkResult export(Alert alert) {
                calls.incrementAndGet();
                return SinkResult.FAILED;
            }
        };
        AlertDispatcher d = AlertDispatcher.builder().sink(broken).maxAttempts(5).build();
        d.publish(Alerts.threshold(75));
        assertThat(d.flush(Duration.ofSeconds(30))).isTrue();
        assertThat(calls).hasValue(1);
        assertThat(d.stats().get(0).failed()).isEqualTo(1);
        d.close();
    }

    @Test
    void compositeIsolatesEachSinkFromTheOthersExceptions() {
        Recording a = new Recording();
        Recording b = new Recording();
        AlertSink throwing = new AlertSink() {
            @Override
            public String name() {
                return "throws";
            }

            @Override
            public SinkResult export(Alert alert) {
                throw new IllegalStateException("boom");
            }
        };
        AlertSink all = AlertSink.composite(a, throwing, b);
        assertThat(all.export(Alerts.threshold(75))).isEqualTo(SinkResult.RETRY);
        assertThat(a.got).hasSize(1);
        assertThat(b.got).hasSize(1);
        assertThat(AlertSink.composite(a, b).export(Alerts.threshold(75))).isEqualTo(SinkResult.SUCCESS);
        assertThat(AlertSink.noop().export(Alerts.threshold(75))).isEqualTo(SinkResult.SUCCESS);
        assertThat(AlertSink.composite()).isSameAs(AlertSink.noop());
    }

    @Test
    void publishingAfterShutdownIsADropNotAnError() throws Exception {
        Recording r = new Recording();
        AlertDispatcher d = AlertDispatcher.builder().sink(r).build();
        d.shutdown(Duration.ofSeconds(5));
        assertThat(d.publish(Alerts.threshold(75))).isZero();
        assertThat(d.dropped()).isEqualTo(1);
    }
}
