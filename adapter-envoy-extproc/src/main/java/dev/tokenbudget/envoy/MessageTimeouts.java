package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.GatewayTimer;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;

import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The ext_proc filter's per-message timers, as configured in Envoy ({@code message_timeout},
 * {@code max_message_timeout}) and told to the processor by flags: Envoy does not announce them.
 * Envoy answers 504 when a message is not answered within {@code message_timeout}
 * (ext_proc.cc Filter::onMessageTimeout); the processor may restart that timer once per message
 * with {@code override_message_timeout} up to {@code max_message_timeout} (Filter::onNewTimeout).
 *
 * <p>The processor answers an admission before its timer could fire: it asks for more time before
 * work that can be slow (a large body to estimate) and when an admission is still undecided at half
 * of {@code message_timeout} (a wait for an upstream quota, a slow store), when the filter allows
 * it, and bounds the quota wait by what is left, keeping a margin for the way back.
 *
 * @param message     the filter's {@code message_timeout} (Envoy's default is 200 ms)
 * @param maxMessage  the filter's {@code max_message_timeout}; zero when unset (no override possible)
 */
public record MessageTimeouts(Duration message, Duration maxMessage) {

    /** Envoy's defaults: 200 ms, no override. */
    public static final MessageTimeouts ENVOY_DEFAULTS = new MessageTimeouts(Duration.ofMillis(200), Duration.ZERO);

    /** Bodies from this size on take long enough to estimate (≈0.1 s per MiB) that more time is asked first. */
    static final int SLOW_BODY_BYTES = 1 << 20;

    public MessageTimeouts {
        if (message.isNegative() || message.isZero()) {
            throw new IllegalArgumentException("--message-timeout must be positive, was " + message);
        }
        if (maxMessage.isNegative()) {
            throw new IllegalArgumentException("--max-message-timeout must not be negative, was " + maxMessage);
        }
    }

    /** Whether {@code override_message_timeout} can buy more time than {@code message_timeout}. */
    boolean extensible() {
        return maxMessage.compareTo(message) > 0;
    }

    /**
     * How long an answer may take from the message's arrival, keeping a margin for the way back:
     * a tenth of the timeout, at least 20 ms and at most 250 ms. Asked once per admission, so in
     * nanoseconds ({@code Duration.dividedBy} divides as a BigDecimal).
     */
    Duration answerWithin(boolean extended) {
        Duration d = extended ? maxMessage : message;
        // saturated: a timeout of centuries is as good as none
        long t = d.getSeconds() >= Long.MAX_VALUE / 1_000_000_000L ? Long.MAX_VALUE : d.toNanos();
        long margin = Math.min(MAX_MARGIN_NANOS, Math.max(MIN_MARGIN_NANOS, t / 10));
        return Duration.ofNanos(Math.max(0, t - margin));
    }

    private static final long MIN_MARGIN_NANOS = 20_000_000L;
    private static final long MAX_MARGIN_NANOS = 250_000_000L;

    /**
     * Runs {@code ask} once half of {@code message_timeout} has passed, unless cancelled first: an
     * admission still undecided then asks for more time, half the timeout before Envoy's timer would
     * fire. A store that answers in milliseconds (Redis) so costs no message; asking at once cost one
     * more message per stream on every admission the store did not decide on the calling thread.
     * Runs on the gateway layer's shared timer thread.
     */
    Future<?> askLater(Runnable ask) {
        long t = message.getSeconds() >= Long.MAX_VALUE / 1_000_000_000L ? Long.MAX_VALUE : message.toNanos();
        return GatewayTimer.shared().schedule(ask, t / 2, TimeUnit.NANOSECONDS);
    }

    /** The message restarting Envoy's timer at {@code max_message_timeout}; it must carry nothing else. */
    ProcessingResponse moreTime() {
        return ProcessingResponse.newBuilder().setOverrideMessageTimeout(com.google.protobuf.Duration.newBuilder()
                .setSeconds(maxMessage.getSeconds()).setNanos(maxMessage.getNano())).build();
    }
}
