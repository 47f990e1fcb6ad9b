package dev.tokenbudget.alert.internal;

import dev.tokenbudget.alert.Alert;
import dev.tokenbudget.alert.AlertSink;
import dev.tokenbudget.alert.SinkResult;

/** Accepts every alert and sends nothing. */
public enum NoopAlertSink implements AlertSink {
    INSTANCE;

    @Override
    public SinkResult export(Alert alert) {
        return SinkResult.SUCCESS;
    }
}
