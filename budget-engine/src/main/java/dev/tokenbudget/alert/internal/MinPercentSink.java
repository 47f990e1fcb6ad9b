package dev.tokenbudget.alert.internal;

import dev.tokenbudget.alert.Alert;
import dev.tokenbudget.alert.AlertSink;
import dev.tokenbudget.alert.SinkResult;

/** Passes on only alerts at or above a threshold (and every resolution); the rest count as delivered. */
public final class MinPercentSink implements AlertSink {

    private final AlertSink delegate;
    private final int minPercent;

    public MinPercentSink(AlertSink delegate, int minPercent) {
        this.delegate = delegate;
        this.minPercent = minPercent;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public SinkResult export(Alert alert) {
        if (alert.kind() != Alert.Kind.RESOLVED && alert.threshold() < minPercent) {
            return SinkResult.SUCCESS;
        }
        return delegate.export(alert);
    }

    @Override
    public SinkResult flush() {
        return delegate.flush();
    }

    @Override
    public void shutdown() {
        delegate.shutdown();
    }
}
