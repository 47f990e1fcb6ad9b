package dev.tokenbudget.provider.sse;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * An incremental Server-Sent Events decoder (the WHATWG event-stream format) that accepts the
 * stream in chunks split at any byte: inside a UTF-8 sequence, inside a field name, between
 * {@code \r} and {@code \n}. Lines end in {@code \n}, {@code \r\n} or {@code \r}.
 *
 * <p>Memory stays bounded whatever the stream's length: {@code data:} payloads are forwarded as
 * they arrive, never buffered; other lines ({@code event:}, {@code id:}, comments) keep at most
 * {@value #FIELD_CAP} bytes, and an event whose data exceeds {@code maxEventBytes} is dropped with
 * {@link SseListener#onEventTooLarge()}. The parser never changes or consumes the caller's bytes.
 * Not thread-safe: one parser per stream, fed by one thread at a time.
 */
public final class SseParser {

    /** Bytes kept of a non-data line (field name and value); longer ones are cut (their value ignored). */
    public static final int FIELD_CAP = 1024;
    /** Default cap of one event's data: 16 MiB (a Responses {@code response.completed} can be large). */
    public static final long DEFAULT_MAX_EVENT_BYTES = 16L << 20;

    private enum State { LINE_START, FIELD, DATA_VALUE_START, DATA_VALUE, OTHER_VALUE, SKIP_LINE }

    private final SseListener listener;
    private final long maxEventBytes;
    /** The current non-data line; grows up to {@link #FIELD_CAP} (most lines are a few dozen bytes). */
    private byte[] field = new byte[64];
    private int fieldLen;
    private boolean fieldOverflow;
    private State state = State.LINE_START;
    private boolean afterCr;
    private boolean bomChecked;
    private int bomMatched;
    private boolean eventHasData;
    private boolean eventDropped;
    private long eventBytes;
    private boolean pendingNewline;
    private boolean eventHasFields;
    /** The last event type passed on, and its bytes: a stream repeats a few types, each made a String once. */
    private String lastType;
    private byte[] lastTypeBytes;
    private static final byte[] NEWLINE = {'\n'};

    public SseParser(SseListener listener) {
        this(listener, DEFAULT_MAX_EVENT_BYTES);
    }

    public SseParser(SseListener listener, long maxEventBytes) {
        this.listener = Objects.requireNonNull(listener, "listener");
        if (maxEventBytes < 1) {
            throw new IllegalArgumentException("maxEventBytes must be >= 1, was " + maxEventBytes);
        }
        this.maxEventBytes = maxEventBytes;
    }

    /** Feeds the next chunk of the stream. */
    public void feed(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        int i = off;
        int end = off + len;
        if (!bomChecked) {
            i = skipBom(b, i, end);
            if (!bomChecked) {
                return;
            }
        }
        while (i < end) {
            byte c = b[i];
            if (afterCr) {
                afterCr = false;
                if (c == '\n') {
                    i++;
                    continue;
                }
            }
            if (state == State.DATA_VALUE_START && c != '\n' && c != '\r') {
                // one space after the colon is dropped; the value is passed from the caller's bytes
                state = State.DATA_VALUE;
                if (c == ' ') {
                    i++;
                    continue;
                }
            }
            if (state == State.DATA_VALUE || state == State.OTHER_VALUE) {
                // the rest of the line's value in this chunk, in one piece
                int j = i;
                while (j < end && b[j] != '\n' && b[j] != '\r') {
                    j++;
                }
                if (state == State.DATA_VALUE) {
                    emitData(b, i, j - i);
                } else {
                    keepField(b, i, j - i);
                }
                i = j;
                if (i == end) {
                    break;
                }
                c = b[i];
            }
            if (c == '\n' || c == '\r') {
                afterCr = c == '\r';
                endLine();
                i++;
                continue;
            }
            step(c);
            i++;
        }
    }

    /** The UTF-8 byte order mark may start a stream once; it may itself be split across chunks. */
    private int skipBom(byte[] b, int i, int end) {
        final byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        while (i < end && bomMatched < 3 && b[i] == bom[bomMatched]) {
            bomMatched++;
            i++;
        }
        if (bomMatched == 3 || i < end) {
            bomChecked = true;
            if (bomMatched > 0 && bomMatched < 3) {
                // not a BOM after all: replay the bytes taken as ordinary input
                byte[] partial = java.util.Arrays.copyOf(bom, bomMatched);
                bomMatched = 0;
                feed(partial, 0, partial.length);
            }
        }
        return i;
    }

    private void step(byte c) {
        switch (state) {
            case LINE_START, FIELD -> {
                if (c == ':') {
                    if (state == State.LINE_START) {
                        state = State.SKIP_LINE; // a comment
                    } else if (isField("data")) {
                        state = State.DATA_VALUE_START;
                        startDataLine();
                    } else {
                        state = State.OTHER_VALUE;
                        keepField((byte) ':');
                    }
                } else {
                    state = State.FIELD;
                    keepField(c);
                }
            }
            case SKIP_LINE, DATA_VALUE_START, DATA_VALUE, OTHER_VALUE -> {
                // value bytes are handled in feed(); a comment is ignored
            }
        }
    }

    private void keepField(byte c) {
        if (fieldLen < FIELD_CAP) {
            if (fieldLen == field.length) {
                field = java.util.Arrays.copyOf(field, Math.min(FIELD_CAP, field.length * 2));
            }
            field[fieldLen++] = c;
        } else {
            fieldOverflow = true;
        }
    }

    /** Keeps {@code b[off, off + len)} of a non-data line's value, up to the cap. */
    private void keepField(byte[] b, int off, int len) {
        int n = Math.min(len, FIELD_CAP - fieldLen);
        if (n < len) {
            fieldOverflow = true;
        }
        if (n > 0) {
            if (fieldLen + n > field.length) {
                field = java.util.Arrays.copyOf(field, Math.min(FIELD_CAP, Math.max(fieldLen + n, field.length * 2)));
            }
            System.arraycopy(b, off, field, fieldLen, n);
            fieldLen += n;
        }
    }

    private boolean isField(String name) {
        if (fieldLen != name.length()) {
            return false;
        }
        for (int k = 0; k < fieldLen; k++) {
            if (field[k] != name.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private void emitData(byte[] b, int off, int len) {
        if (eventDropped || len == 0) {
            return;
        }
        if (eventBytes + len > maxEventBytes) {
            eventDropped = true;
            listener.onEventTooLarge();
            return;
        }
        eventBytes += len;
        eventHasData = true;
        listener.onData(b, off, len);
    }

    private void endLine() {
        if (state != State.LINE_START && state != State.SKIP_LINE) {
            eventHasFields = true;
        }
        switch (state) {
            case LINE_START -> dispatch();
            case FIELD -> {
                // a field name without a colon: "data" alone means an empty data line
                if (isField("data")) {
                    startDataLine();
                    pendingNewline = true;
                }
            }
            case DATA_VALUE_START, DATA_VALUE -> pendingNewline = true;
            case OTHER_VALUE -> otherLine();
            case SKIP_LINE -> {
            }
        }
        state = State.LINE_START;
        fieldLen = 0;
        fieldOverflow = false;
    }

    /** A data line begins; the second and later data lines of one event are joined by '\n'. */
    private void startDataLine() {
        if (pendingNewline) {
            emitData(NEWLINE, 0, 1);
            pendingNewline = false;
        }
        eventHasData = true;
    }

    private void otherLine() {
        if (fieldOverflow) {
            return;
        }
        int colon = 0;
        while (field[colon] != ':') {
            colon++;
        }
        if (colon == 5 && field[0] == 'e' && field[1] == 'v' && field[2] == 'e' && field[3] == 'n' && field[4] == 't') {
            int v = colon + 1;
            if (v < fieldLen && field[v] == ' ') {
                v++;
            }
            listener.onEventType(eventType(v, fieldLen));
        }
    }

    /** {@code field[from, to)} as a String: the last type's own String when the bytes are the same. */
    private String eventType(int from, int to) {
        if (lastTypeBytes == null || !java.util.Arrays.equals(field, from, to, lastTypeBytes, 0, lastTypeBytes.length)) {
            lastTypeBytes = java.util.Arrays.copyOfRange(field, from, to);
            lastType = new String(lastTypeBytes, StandardCharsets.UTF_8);
        }
        return lastType;
    }

    private void dispatch() {
        boolean had = eventHasData && !eventDropped;
        boolean skipped = !had && eventHasFields;
        eventHasFields = false;
        eventHasData = false;
        eventDropped = false;
        eventBytes = 0;
        pendingNewline = false;
        if (had) {
            listener.onEventEnd();
        } else if (skipped) {
            listener.onEventSkipped();
        }
    }
}
