package dev.tokenbudget.alert.internal;

import dev.tokenbudget.alert.Alert;
import dev.tokenbudget.alert.AlertSink;
import dev.tokenbudget.alert.SinkResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Function;

/** Exports to several sinks in turn, each isolated from the others' exceptions. */
public final class CompositeAlertSink implements AlertSink {

    private static final Logger LOG = LoggerFactory.getLogger(CompositeAlertSink.class);

    private final List<AlertSink> sinks;

    public CompositeAlertSink(List<AlertSink> sinks) {
        this.sinks = List.copyOf(sinks);
    }

    @Override
    public String name() {
        return "composite" + sinks.stream().map(AlertSink::name).toList();
    }

    @Override
    public SinkResult export(Alert alert) {
        return each(s -> s.export(alert), "export");
    }

    @Override
    public SinkResult flush() {
        return each(AlertSink::flush, "flush");
    }

    @Override
    public void shutdown() {
        each(s -> {
            s.shutdown();
            return SinkResult.SUCCESS;
        }, "shutdown");
    }

    private SinkResult each(Function<AlertSink, SinkResult> call, String what) {
        SinkResult worst = SinkResult.SUCCESS;
        for (AlertSink s : sinks) {
            try {
                SinkResult r = call.apply(s);
                worst = worst.and(r == null ? SinkResult.RETRY : r);
            } catch (RuntimeException e) {
                LOG.warn("alert sink {} failed on {}: {}", s.name(), what, e.getClass().getSimpleName());
                worst = worst.and(SinkResult.RETRY);
            }
        }
        return worst;
    }
}
