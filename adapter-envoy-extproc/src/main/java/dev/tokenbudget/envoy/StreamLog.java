package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.Identified;
import dev.tokenbudget.gateway.MeterResult;
import dev.tokenbudget.usage.TokenUsage;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

import java.util.Locale;

/**
 * One structured log line per stream, written when it ends: key=value pairs an operator can grep
 * or ship (key name, never the key; provider, decision, statuses, usage settled, duration).
 * Failures log at WARN, the rest at INFO (logger {@code tokenbudget.envoy.streams}: raise it to
 * WARN to log failures only).
 */
final class StreamLog implements StreamRecord {

    private static final Logger LOG = LoggerFactory.getLogger("tokenbudget.envoy.streams");

    private final long startNanos = System.nanoTime();
    private final Runnable onEnd;
    private boolean observed;
    private String method;
    private String path;
    private String key;
    private String provider;
    private String decision;
    private String model;
    private int replied = -1;
    private int upstreamStatus = -1;
    private long responseBytes;
    private MeterResult meter;
    private Status failure;
    private RuntimeException error;
    private boolean ended;

    /** @param onEnd run once when the stream ends (the open-stream count) */
    StreamLog(Runnable onEnd) {
        this.onEnd = onEnd;
    }

    @Override
    public void observed(boolean on) {
        observed = on;
    }

    @Override
    public void request(String method, String path) {
        this.method = method;
        int q = path.indexOf('?');
        this.path = q < 0 ? path : path.substring(0, q); // a query may carry a key (Gemini's ?key=)
    }

    @Override
    public void identified(Identified id) {
        key = id.key().name();
        provider = id.provider().configName();
    }

    @Override
    public void forwarded(Forward f) {
        decision = f.decision() == null ? "unmetered" : f.decision().outcome().name().toLowerCase(Locale.ROOT);
        model = f.model();
    }

    @Override
    public void replied(int status) {
        replied = status;
    }

    @Override
    public void responseStatus(int status) {
        upstreamStatus = status;
    }

    @Override
    public void responseBytes(int n) {
        responseBytes += n;
    }

    @Override
    public void meter(MeterResult r) {
        meter = r;
    }

    @Override
    public void failed(Status s) {
        failure = s;
    }

    @Override
    public void error(RuntimeException e) {
        error = e;
    }

    @Override
    public void end(String how) {
        if (ended) {
            return;
        }
        ended = true;
        onEnd.run();
        Level level = failure != null || error != null ? Level.WARN : Level.INFO;
        if (!LOG.isEnabledForLevel(level)) {
            return;
        }
        LoggingEventBuilder e = LOG.atLevel(level).addKeyValue("event", "stream_end").addKeyValue("end", how);
        put(e, "observed", observed ? "true" : null);
        put(e, "method", method);
        put(e, "path", path);
        put(e, "key", key);
        put(e, "provider", provider);
        put(e, "decision", decision);
        put(e, "model", model);
        put(e, "replied", replied >= 0 ? replied : null);
        put(e, "upstream_status", upstreamStatus >= 0 ? upstreamStatus : null);
        put(e, "response_bytes", upstreamStatus >= 0 ? responseBytes : null);
        if (meter != null) {
            e.addKeyValue("meter", meter.outcome().name().toLowerCase(Locale.ROOT));
            TokenUsage u = meter.charged();
            if (u != null) {
                e.addKeyValue("input_tokens", u.inputTokens()).addKeyValue("output_tokens", u.outputTokens());
            }
        }
        if (failure != null) {
            e.addKeyValue("grpc_status", failure.getCode()).addKeyValue("reason", failure.getDescription());
        }
        if (error != null) {
            e.setCause(error);
        }
        e.addKeyValue("duration_us", (System.nanoTime() - startNanos) / 1000).log("");
    }

    private static void put(LoggingEventBuilder e, String k, Object v) {
        if (v != null) {
            e.addKeyValue(k, v);
        }
    }
}
