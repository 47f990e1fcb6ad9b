package dev.tokenbudget.provider;

import dev.tokenbudget.provider.eventstream.EventStreamDecoder;
import dev.tokenbudget.provider.json.JsonScanner;
import dev.tokenbudget.provider.sse.SseListener;
import dev.tokenbudget.provider.sse.SseParser;
import software.amazon.awssdk.eventstream.HeaderValue;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Reads the usage of one response incrementally, as its bytes pass, without holding the body:
 * a JSON body, a Server-Sent Events stream whose events carry JSON, or an AWS event stream
 * ({@code application/vnd.amazon.eventstream}, Bedrock's binary frames whose payloads are JSON).
 * The format follows the response's content type, or is sniffed from the first non-blank byte
 * ({@code {} or {@code [} is JSON, a NUL byte — the high byte of a frame's length — an AWS event
 * stream) when the content type says neither. Never throws on malformed input: the report then
 * says what is known and why the rest is not. Not thread-safe: one reader per response.
 */
public final class UsageReader {

    /** Bytes of one SSE event held to be searched before it is parsed; longer events are parsed as they come. */
    static final int HELD_CAP = 8192;

    private final UsageCollector collector;
    private final long maxEventBytes;
    private final boolean searchEvents;
    private Mode mode;
    private SseParser sse;
    private JsonScanner json;
    private JsonScanner documents;
    private EventReader events;
    private EventStreamDecoder frames;
    private long bytes;
    private boolean finished;

    private enum Mode { SSE, JSON, EVENTS }

    UsageReader(UsageCollector collector, String contentType, long maxEventBytes) {
        this(collector, contentType, maxEventBytes, true);
    }

    /** {@code searchEvents} false parses every streamed event, as before {@link EventKeys} (for tests that compare). */
    UsageReader(UsageCollector collector, String contentType, long maxEventBytes, boolean searchEvents) {
        this.collector = Objects.requireNonNull(collector, "collector");
        this.maxEventBytes = maxEventBytes;
        this.searchEvents = searchEvents;
        String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        if (ct.contains("vnd.amazon.eventstream")) {
            mode = Mode.EVENTS;
        } else if (ct.contains("event-stream")) {
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
            mode = b[i] == '{' || b[i] == '[' ? Mode.JSON : b[i] == 0 ? Mode.EVENTS : Mode.SSE;
        }
        if (mode == Mode.SSE) {
            sse().feed(b, off, len);
            events.keepPiece();
        } else if (mode == Mode.EVENTS) {
            frames().feed(b, off, len);
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
            if (frames != null) {
                frames.finish();
            }
            if (documents != null) {
                documents.close();
            }
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

    private EventStreamDecoder frames() {
        if (frames == null) {
            frames = new EventStreamDecoder(new FrameReader(), maxEventBytes);
        }
        return frames;
    }

    /** The scanner of a stream's documents (events, frames), one per response. */
    private JsonScanner scanner() {
        if (documents == null) {
            documents = new JsonScanner(collector.paths(), collector::value);
        }
        return documents;
    }

    private SseParser sse() {
        if (sse == null) {
            events = new EventReader();
            sse = new SseParser(events, maxEventBytes);
        }
        return sse;
    }

    /**
     * Runs the stream's JSON scanner over each event's data that the collector {@link UsageCollector#wants}:
     * an event's data is kept (up to {@link #HELD_CAP} bytes: read in place while it is one piece of
     * the chunk being fed, else copied) until its end, searched for the
     * collector's {@link EventKeys}, and parsed only when it may hold them; a longer event is parsed
     * as it arrives, as every event was before. Each event is one document of the scanner
     * ({@link JsonScanner#endDocument()}), judged as if it had a scanner of its own.
     */
    private final class EventReader implements SseListener {
        private String type;
        /** Whether the current event is being parsed. */
        private boolean parsing;
        /** The event's data while it is one piece of the chunk being fed: searched in place, not copied. */
        private byte[] piece;
        private int pieceOff;
        private int pieceLen;
        private byte[] held;
        private int heldLen;

        @Override
        public void onEventType(String t) {
            type = t;
        }

        @Override
        public void onData(byte[] b, int off, int len) {
            if (!parsing && searchEvents && collector.eventKeys() != null && heldLen + pieceLen + len <= HELD_CAP) {
                if (heldLen == 0 && pieceLen == 0) {
                    piece = b;
                    pieceOff = off;
                    pieceLen = len;
                } else {
                    keepPiece();
                    hold(b, off, len);
                }
                return;
            }
            if (!parsing) {
                startEvent();
            }
            scanner().feed(b, off, len);
        }

        /** The chunk's bytes are read only until its feed returns: a piece of the event still in them is copied. */
        void keepPiece() {
            if (pieceLen > 0) {
                hold(piece, pieceOff, pieceLen);
            }
            piece = null;
            pieceLen = 0;
        }

        private void hold(byte[] b, int off, int len) {
            if (held == null || held.length < heldLen + len) {
                int size = Math.min(HELD_CAP, Math.max(heldLen + len, held == null ? 512 : held.length * 2));
                held = held == null ? new byte[size] : Arrays.copyOf(held, size);
            }
            System.arraycopy(b, off, held, heldLen, len);
            heldLen += len;
        }

        private void forget() {
            piece = null;
            pieceLen = 0;
            heldLen = 0;
        }

        /** The current event is to be parsed: the scanner is fed what was kept of it. */
        private void startEvent() {
            collector.begin(type);
            parsing = true;
            if (pieceLen > 0) {
                scanner().feed(piece, pieceOff, pieceLen);
            } else if (heldLen > 0) {
                scanner().feed(held, 0, heldLen);
            }
            forget();
        }

        private boolean wanted() {
            return pieceLen > 0 ? collector.wants(piece, pieceOff, pieceLen)
                    : heldLen > 0 && collector.wants(held, 0, heldLen);
        }

        @Override
        public void onEventEnd() {
            if (!parsing && wanted()) {
                startEvent();
            }
            if (parsing) {
                collector.end(scanner().endDocument());
            }
            parsing = false;
            type = null;
            forget();
        }

        @Override
        public void onEventSkipped() {
            type = null;
            forget();
        }

        @Override
        public void onEventTooLarge() {
            if (parsing) {
                scanner().endDocument(); // the scanner is readied for the next event; this one is dropped
            }
            collector.end("event too large");
            collector.note("an event exceeded " + maxEventBytes + " bytes and was skipped");
            parsing = false;
            type = null;
            forget();
        }
    }

    /**
     * Runs a JSON scanner over each AWS event-stream frame's payload: an {@code event} frame as a
     * document of its {@code :event-type}; an {@code exception} or {@code error} frame (a failure
     * mid-stream, e.g. {@code throttlingException}) as the provider's error.
     */
    private final class FrameReader implements EventStreamDecoder.Listener {
        private static final JsonScanner.Paths MESSAGE = JsonScanner.Paths.of("message", "Message");

        @Override
        public void onMessage(Map<String, HeaderValue> headers, byte[] payload) {
            String kind = header(headers, ":message-type");
            if ("exception".equals(kind) || "error".equals(kind)) {
                String type = "exception".equals(kind) ? header(headers, ":exception-type")
                        : header(headers, ":error-code");
                String[] message = {header(headers, ":error-message")};
                JsonScanner s = new JsonScanner(MESSAGE, (p, v) -> message[0] = v.kind() == dev.tokenbudget.provider
                        .json.Scalar.Kind.STRING ? v.text() : message[0]);
                s.feed(payload, 0, payload.length);
                s.end();
                collector.error((type == null ? "" : type + ": ") + (message[0] == null ? "" : message[0]));
                return;
            }
            if (searchEvents && !collector.wants(payload, 0, payload.length)) {
                return;
            }
            collector.begin(header(headers, ":event-type"));
            JsonScanner s = scanner();
            s.feed(payload, 0, payload.length);
            collector.end(s.endDocument());
        }

        @Override
        public void onSkipped(String why) {
            collector.note(why);
        }

        @Override
        public void onFailure(String why) {
            collector.note(why);
        }

        private static String header(Map<String, HeaderValue> headers, String name) {
            HeaderValue v = headers.get(name);
            try {
                return v == null ? null : v.getString();
            } catch (RuntimeException e) {
                return null; // a header of another type than string
            }
        }
    }
}
