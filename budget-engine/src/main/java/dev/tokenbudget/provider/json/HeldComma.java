package dev.tokenbudget.provider.json;

/**
 * Passes a JSON text to Jackson's non-blocking parser chunk by chunk, holding back a comma that
 * ends a chunk. Jackson's parser accepts {@code {"a":1,}} when a chunk ends between the comma and
 * the brace (it resumes as if at an object's first field), so such a comma is fed together with
 * the next significant byte: the result is then the same wherever the chunks are cut. Follows
 * strings (and their escapes) across chunks, so that a comma inside a string is never held.
 * Not thread-safe.
 */
final class HeldComma {

    /** Where the bytes go: the parser's feed. */
    @FunctionalInterface
    interface Feed {
        /** @return false when the parser failed (nothing more is fed) */
        boolean push(byte[] b, int from, int to);
    }

    private static final byte[] COMMA = {','};

    private final Feed feed;
    private boolean inString;
    private boolean escaped;
    private boolean held;

    HeldComma(Feed feed) {
        this.feed = feed;
    }

    /** Passes on {@code b[off..off+len)}, but for a trailing comma (and the whitespace after it). */
    void feed(byte[] b, int off, int len) {
        int end = off + len;
        int from = off;
        if (held) {
            while (from < end && isWhitespace(b[from])) {
                from++; // whitespace after a comma means nothing: drop it, keep holding
            }
            if (from == end) {
                return;
            }
            held = false;
            byte[] pair = {',', b[from]};
            track(pair, 1, 2);
            if (!feed.push(pair, 0, 2)) {
                return;
            }
            from++;
        }
        int comma = track(b, from, end);
        int upTo = end;
        if (comma >= 0) {
            held = true;
            upTo = comma;
        }
        if (from < upTo) {
            feed.push(b, from, upTo);
        }
    }

    /** At the end of input: passes on a comma still held (which the parser then refuses). */
    boolean end() {
        return !held || feed.push(COMMA, 0, 1);
    }

    /**
     * Follows strings through {@code b[from..to)} and returns the index of a comma between tokens
     * that only whitespace follows, or -1.
     */
    private int track(byte[] b, int from, int to) {
        int comma = -1;
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (inString) {
                if (escaped) {
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '"') {
                    inString = false;
                }
                comma = -1;
            } else if (c == ',') {
                comma = i;
            } else if (!isWhitespace(c)) {
                inString = c == '"';
                comma = -1;
            }
        }
        return comma;
    }

    private static boolean isWhitespace(byte c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
    }
}
