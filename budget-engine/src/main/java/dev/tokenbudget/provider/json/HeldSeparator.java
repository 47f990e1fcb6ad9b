package dev.tokenbudget.provider.json;

/**
 * Passes a JSON text to Jackson's non-blocking parser chunk by chunk, holding back a separator
 * (a comma or a colon) that ends a chunk. Jackson's parser accepts {@code {"a":1,}} when a chunk
 * ends between the comma and the brace (it resumes as if at an object's first field), and
 * {@code {"a":}} when a chunk ends after the colon (it resumes as if a value had been read). So
 * such a separator is fed together with the next significant byte: the result is then the same
 * wherever the chunks are cut. Follows strings (and their escapes) across chunks, so that a
 * separator inside a string is never held. Not thread-safe.
 */
final class HeldSeparator {

    /** Where the bytes go: the parser's feed. */
    @FunctionalInterface
    interface Feed {
        /** @return false when the parser failed (nothing more is fed) */
        boolean push(byte[] b, int from, int to);
    }

    private static final byte NONE = 0;

    private final Feed feed;
    private boolean inString;
    private boolean escaped;
    /** The separator held back, or {@link #NONE}. */
    private byte held = NONE;
    /** Open brackets of the first root value; whether it closed; whether anything but blanks followed. */
    private int nesting;
    private boolean closed;
    private boolean trailing;

    HeldSeparator(Feed feed) {
        this.feed = feed;
    }

    /** Passes on {@code b[off..off+len)}, but for a trailing separator (and the whitespace after it). */
    void feed(byte[] b, int off, int len) {
        int end = off + len;
        int from = off;
        if (held != NONE) {
            while (from < end && isWhitespace(b[from])) {
                from++; // whitespace after a separator means nothing: drop it, keep holding
            }
            if (from == end) {
                return;
            }
            byte[] pair = {held, b[from]};
            held = NONE;
            track(pair, 1, 2);
            if (!feed.push(pair, 0, 2)) {
                return;
            }
            from++;
        }
        int separator = track(b, from, end);
        int upTo = end;
        if (separator >= 0) {
            held = b[separator];
            upTo = separator;
        }
        if (from < upTo) {
            feed.push(b, from, upTo);
        }
    }

    /** At the end of input: passes on a separator still held (which the parser then refuses). */
    boolean end() {
        return held == NONE || feed.push(new byte[] {held}, 0, 1);
    }

    /**
     * Follows strings through {@code b[from..to)} and returns the index of a separator between
     * tokens that only whitespace follows, or -1. Inside a string only a quote or a backslash
     * matters, so the bytes between them are passed over by a loop that looks for nothing else.
     */
    int track(byte[] b, int from, int to) {
        int separator = -1;
        int i = from;
        while (i < to) {
            if (inString) {
                separator = -1;
                if (escaped) {
                    escaped = false;
                    i++;
                    continue;
                }
                byte c = b[i];
                while (c != '"' && c != '\\' && ++i < to) {
                    c = b[i];
                }
                if (i == to) {
                    break;
                }
                if (c == '\\') {
                    escaped = true;
                } else {
                    inString = false;
                }
                i++;
                continue;
            }
            byte c = b[i];
            if (!isWhitespace(c)) {
                nest(c);
            }
            if (c == ',' || c == ':') {
                separator = i;
            } else if (!isWhitespace(c)) {
                inString = c == '"';
                separator = -1;
            }
            i++;
        }
        return separator;
    }

    /** Follows the brackets of the first root value outside strings, and notes anything after it. */
    private void nest(byte c) {
        if (closed) {
            trailing = true;
        } else if (c == '{' || c == '[') {
            nesting++;
        } else if ((c == '}' || c == ']') && nesting > 0 && --nesting == 0) {
            closed = true;
        }
    }

    /**
     * True when the bytes tracked so far hold one root object or array, closed, with only blanks
     * after it (for a well-formed text: brackets are counted, not checked).
     */
    boolean closedAlone() {
        return closed && !trailing;
    }

    /** Forgets what was tracked, for the next document of a stream. */
    void reset() {
        inString = false;
        escaped = false;
        held = NONE;
        nesting = 0;
        closed = false;
        trailing = false;
    }

    /** Whether the bytes tracked so far end inside a string (for tests). */
    boolean insideString() {
        return inString;
    }

    private static boolean isWhitespace(byte c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
    }
}
