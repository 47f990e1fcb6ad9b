package dev.tokenbudget.envoy;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The bound an admission's answer must beat: Envoy's timer less a margin of a tenth, 20–250 ms. */
class MessageTimeoutsTest {

    @Test
    void answersWithinTheTimerLessATenthBoundedTo20To250Milliseconds() {
        MessageTimeouts t = new MessageTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(5));
        assertThat(t.answerWithin(false)).isEqualTo(Duration.ofMillis(900));
        assertThat(t.answerWithin(true)).isEqualTo(Duration.ofMillis(4750)); // the margin at its 250 ms cap
        assertThat(new MessageTimeouts(Duration.ofMillis(100), Duration.ZERO).answerWithin(false))
                .isEqualTo(Duration.ofMillis(80)); // at least 20 ms
        assertThat(new MessageTimeouts(Duration.ofMillis(200), Duration.ZERO).answerWithin(false))
                .isEqualTo(Duration.ofMillis(180)); // Envoy's default
        assertThat(new MessageTimeouts(Duration.ofMillis(10), Duration.ZERO).answerWithin(false))
                .isEqualTo(Duration.ZERO); // no time left after the margin
        // a tenth rounded down to the nanosecond
        assertThat(new MessageTimeouts(Duration.ofNanos(1_234_567_891), Duration.ZERO).answerWithin(false))
                .isEqualTo(Duration.ofNanos(1_234_567_891 - 123_456_789));
    }

    /** Saturated at 2^63-1 ns (292 years), which the upstream quota's wait still takes in nanoseconds. */
    @Test
    void aTimeoutOfCenturiesDoesNotOverflow() {
        MessageTimeouts t = new MessageTimeouts(Duration.ofSeconds(1), Duration.ofDays(365L * 1000));
        assertThat(t.answerWithin(true)).isEqualTo(Duration.ofNanos(Long.MAX_VALUE - 250_000_000L));
        assertThat(t.extensible()).isTrue();
    }
}
