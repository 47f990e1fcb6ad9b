package dev.tokenbudget.fake;

import java.io.ByteArrayOutputStream;
import java.util.Optional;

/**
 * One request the fake provider served and how its response went. The outcome fields are written
 * by the serving thread while the response is produced, so readers see the latest state.
 */
public final class RecordedExchange {

    private final RecordedRequest request;
    private volatile int status;
    private volatile boolean streamed;
    private volatile ReportedUsage usage;
    private volatile boolean completed;
    private volatile boolean aborted;
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();

    /** At most this many response bytes are kept per exchange, so a long-running fake stays small. */
    public static final int MAX_KEPT_BYTES = 1 << 20;

    RecordedExchange(RecordedRequest request) {
        this.request = request;
    }

    public RecordedRequest request() {
        return request;
    }

    /** The status sent, or 0 before the headers went out. */
    public int status() {
        return status;
    }

    public boolean streamed() {
        return streamed;
    }

    /**
     * The last cumulative usage written to the wire; empty when none was (an error, or an OpenAI
     * chat stream without {@code stream_options.include_usage}).
     */
    public Optional<ReportedUsage> usage() {
        return Optional.ofNullable(usage);
    }

    /** True once the whole response was written. */
    public boolean completed() {
        return completed;
    }

    /** True when writing failed because the client went away, or a break was injected. */
    public boolean aborted() {
        return aborted;
    }

    /**
     * The response body bytes exactly as written to the socket (chunk framing excluded), up to
     * {@link #MAX_KEPT_BYTES}. Each piece is recorded just before it is written, so when the
     * client went away the last piece may not have reached it.
     */
    public byte[] sentBody() {
        synchronized (sent) {
            return sent.toByteArray();
        }
    }

    void sent(byte[] b) {
        synchronized (sent) {
            int room = MAX_KEPT_BYTES - sent.size();
            sent.write(b, 0, Math.min(room, b.length));
        }
    }

    void status(int s, boolean isStream) {
        this.status = s;
        this.streamed = isStream;
    }

    void usage(ReportedUsage u) {
        this.usage = u;
    }

    void markCompleted() {
        this.completed = true;
    }

    void markAborted() {
        this.aborted = true;
    }

    @Override
    public String toString() {
        return request.method() + " " + request.path() + " -> " + status + (streamed ? " (stream)" : "")
                + " usage=" + usage + (completed ? " completed" : "") + (aborted ? " aborted" : "");
    }
}
