package dev.tokenbudget.alert;

import dev.tokenbudget.alert.internal.CompositeAlertSink;
import dev.tokenbudget.alert.internal.NoopAlertSink;

import java.util.List;

/**
 * Where alerts go: Slack, PagerDuty, a webhook, e-mail. The shape of an exporter: one call per
 * alert that reports whether to retry, plus {@link #flush} and {@link #shutdown}.
 *
 * <p>{@link #export} may block on I/O (bounded by the sink's own timeouts): it is called only by
 * an {@link AlertDispatcher} lane, never on a request path. It must not throw; an exception is
 * treated as {@link SinkResult#RETRY}. It must never log secrets (webhook URLs, routing keys,
 * passwords).
 */
public interface AlertSink {

    /** A short name for logs and delivery statistics (never a secret). */
    String name();

    /** Delivers one alert; the dispatcher retries on {@link SinkResult#RETRY}. */
    SinkResult export(Alert alert);

    /** Delivers anything the sink buffers itself (most sinks buffer nothing). */
    default SinkResult flush() {
        return SinkResult.SUCCESS;
    }

    /** Releases the sink's resources; no export follows. */
    default void shutdown() {
    }

    /**
     * One sink that exports to all of {@code sinks} in turn, each isolated from the others'
     * exceptions; the result is the worst of theirs. A dispatcher gives each sink its own lane
     * instead, so that a slow sink cannot delay the others; use this for synchronous fan-out.
     */
    static AlertSink composite(AlertSink... sinks) {
        return composite(List.of(sinks));
    }

    static AlertSink composite(List<AlertSink> sinks) {
        if (sinks.isEmpty()) {
            return noop();
        }
        return sinks.size() == 1 ? sinks.get(0) : new CompositeAlertSink(sinks);
    }

    /** A sink that accepts every alert and sends nothing. */
    static AlertSink noop() {
        return NoopAlertSink.INSTANCE;
    }
}
