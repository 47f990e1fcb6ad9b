package dev.tokenbudget.provider;

import dev.tokenbudget.provider.json.JsonScanner;
import dev.tokenbudget.provider.sse.SseListener;
import dev.tokenbudget.provider.sse.SseParser;

import java.util.Locale;
import java.util.Objects;

/**
 * Reads the usage of one response incrementally, as its bytes pass, without holding the body:
 * a JSON body, or a Server-Sent Events stream whose events carry JSON. The format follows the
 * response's content type, or is sniffed from the first non-blank byte ({@code {} or {@code [}
 * is JSON) when the content type says neither. Never throws on malformed input: the report then
 * says what is known and why the rest is not. Not thread-safe: one reader per response.
 */
public final class UsageReader {

    private final UsageCollector collector;
    private final long maxEventBytes;
    private Mode mode;
    private SseParser sse;
    private JsonScanner json;
    private long bytes;
    private boolean finished;

    private enum Mode { SSE, JSON }

    UsageReader(UsageCollector collector, String contentType, long maxEventBytes) {
        this.collector = Objects.requireNonNull(collector, "collector");
        this.maxEventBytes = maxEventBytes;
        String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        if (ct.contains("event-stream")) {
            mode = Mode.SSE;
        } else if (ct.contains("json")) {
            mode = Mode.JSON;
        }
    }

    /** A reader for a response of {@code endpoint} from a provider of {@code family}. */
    public static UsageReader of(Family family, Endpoint endpoint, String contentType) {
        return new UsageReader(ProviderCodec.of(family).usageCollector(endpoint), contentType,
                SseParser.DEFAULT_MAX_EVENT_BYTES);
    }

    /** Feeds the next bytes of the body; they are read, never kept or changed. */
    public void feed(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        if (finished || len == 0) {
            return;
        }
        bytes += len;
        if (mode == null) {
            int i = off;
            while (i < off + len && isBlank(b[i])) {
                i++;
            }
            if (i == off + len) {
                return; // only blanks so far: they mean nothing in either format
            }
            mode = b[i] == '{' || b[i] == '[' ? Mode.JSON : Mode.SSE;
        }
        if (mode == Mode.SSE) {
            sse().feed(b, off, len);
        } else {
            jsonBody().feed(b, off, len);
        }
    }

    private static boolean isBlank(byte c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == (byte) 0xEF || c == (byte) 0xBB
                || c == (byte) 0xBF;
    }

    /** Bytes fed so far. */
    public long bytes() {
        return bytes;
    }

    /** Usage so far, without ending the input (for an aborted stream, see {@link #finish()}). */
    public UsageReport current() {
        return collector.report();
    }

    /** Ends the input and returns the usage; a JSON body cut short is reported as malformed. */
    public UsageReport finish() {
        if (!finished) {
            finished = true;
            if (json != null) {
                json.end();
                collector.endBody(json.failure());
                if (json.failure() != null) {
                    collector.note(json.failure());
                }
            }
        }
        return collector.report();
    }

    private JsonScanner jsonBody() {
        if (json == null) {
            collector.begin(null);
            json = new JsonScanner(collector.paths(), collector::value);
        }
        return json;
    }

    private SseParser sse() {
        if (sse == null) {
            sse = new SseParser(new EventReader(), maxEventBytes);
        }
        return sse;
    }

    /** Runs a fresh JSON scanner over each event's data. */
    private final class EventReader implements SseListener {
        private String type;
        private JsonScanner event;

        @Override
        public void onEventType(String t) {
            type = t;
        }

        @Override
        public void onData(byte[] b, int off, int len) {
            if (event == null) {
                collector.begin(type);
                event = new JsonScanner(collector.paths(), collector::value);
            }
            event.feed(b, off, len);
        }

        @Override
        public void onEventEnd() {
            if (event != null) {
                event.end();
                collector.end(event.failure());
            }
            event = null;
            type = null;
        }

        @Override
        public void onEventSkipped() {
            type = null;
        }

        @Override
        public void onEventTooLarge() {
            collector.end("event too large");
            collector.note("an event exceeded " + maxEventBytes + " bytes and was skipped");
            event = null;
            type = null;
        }
    }
}
