package dev.tokenbudget.provider;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.Arrays;

/**
 * {@link PromptText#of}'s walk over a body's tokens as they are scanned, with no tree: the same
 * text, messages, media parts and token ids. Where the walk decides by looking at a whole object
 * (a media field whose object holds {@code text} and no {@code data} is text, else one media
 * part), the scan walks the object and, at its end, takes back what it added when the object was
 * media. String values are appended from the parser's characters, without a string each.
 */
final class PromptScan {

    private static final int DEPTH = 8;

    private final StringBuilder text;
    private int messages;
    private int media;
    private long tokenIds;

    // per open container (index = its depth in the document); a chat body nests about five deep
    private boolean[] walked = new boolean[DEPTH];
    private boolean[] isArray = new boolean[DEPTH];
    private String[] arrayField = new String[DEPTH]; // the field an array's elements are walked under
    private boolean[] candidate = new boolean[DEPTH]; // an object under a media field
    private boolean[] hasText = new boolean[DEPTH];
    private boolean[] hasData = new boolean[DEPTH];
    // what a media candidate may take back; made for the first one (most prompts have none)
    private int[] markText;
    private int[] markMessages;
    private int[] markMedia;
    private long[] markTokenIds;
    private int depth;
    private String field;

    /**
     * @param bodyLength the body's size in bytes: its text has at most as many characters, so a
     *                   builder of that size (up to 64 Ki characters) never grows for a usual prompt
     */
    PromptScan(long bodyLength) {
        text = new StringBuilder((int) Math.max(16, Math.min(bodyLength, 1 << 16)));
    }

    PromptText result() {
        return new PromptText(text.toString(), messages, media, tokenIds);
    }

    void token(JsonToken t, JsonParser p) throws IOException {
        if (t == JsonToken.FIELD_NAME) {
            field = p.currentName();
            int top = depth - 1;
            if (walked[top] && field.equals("role")) {
                messages++; // duplicated names are refused, so this counts an object once
            }
            if (candidate[top]) {
                hasText[top] |= field.equals("text");
                hasData[top] |= field.equals("data");
            }
            return;
        }
        if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
            close();
            return;
        }
        value(t, p);
        field = null;
    }

    /** A value (scalar or container start) at the current position, as the walk would treat it. */
    private void value(JsonToken t, JsonParser p) throws IOException {
        boolean container = t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY;
        if (depth == 0) {
            if (container) {
                open(t, true, null, false); // the walk starts at the root, depth 0
            }
            return;
        }
        int parent = depth - 1;
        if (!walked[parent]) {
            if (container) {
                open(t, false, null, false);
            }
            return;
        }
        String f;
        if (isArray[parent]) {
            f = arrayField[parent];
            if (t == JsonToken.VALUE_NUMBER_INT && f != null && (f.equals("prompt") || f.equals("input"))) {
                tokenIds++;
                return;
            }
        } else {
            f = field;
            if (PromptText.MEDIA.contains(f)) {
                if (t == JsonToken.START_OBJECT) {
                    open(t, depth <= 64, f, true); // decided at its end
                } else {
                    media++;
                    if (container) {
                        open(t, false, null, false);
                    }
                }
                return;
            }
            if (PromptText.NOT_TEXT.contains(f)) {
                if (container) {
                    open(t, false, null, false);
                }
                return;
            }
        }
        // walk(value, f, depth): nothing below depth 64
        if (container) {
            open(t, depth <= 64, f, false);
        } else if (t == JsonToken.VALUE_STRING && depth <= 64) {
            string(p);
        }
    }

    private void string(JsonParser p) throws IOException {
        char[] c = p.getTextCharacters();
        int off = p.getTextOffset();
        int len = p.getTextLength();
        if (len > 64 && len >= 5 && c[off] == 'd' && c[off + 1] == 'a' && c[off + 2] == 't' && c[off + 3] == 'a'
                && c[off + 4] == ':') {
            media++; // a data: URL outside the known media fields
            return;
        }
        if (!text.isEmpty()) {
            text.append('\n');
        }
        text.append(c, off, len);
    }

    private void open(JsonToken t, boolean walk, String f, boolean mediaCandidate) {
        if (depth == walked.length) {
            grow();
        }
        int d = depth++;
        walked[d] = walk;
        isArray[d] = t == JsonToken.START_ARRAY;
        arrayField[d] = f;
        candidate[d] = mediaCandidate;
        hasText[d] = false;
        hasData[d] = false;
        if (mediaCandidate) {
            if (markText == null || markText.length < walked.length) {
                marks();
            }
            markText[d] = text.length();
            markMessages[d] = messages;
            markMedia[d] = media;
            markTokenIds[d] = tokenIds;
        }
    }

    private void close() {
        int d = --depth;
        if (candidate[d] && !(hasText[d] && !hasData[d])) {
            // media after all: the walk would have counted one part and read nothing inside
            text.setLength(markText[d]);
            messages = markMessages[d];
            media = markMedia[d] + 1;
            tokenIds = markTokenIds[d];
        }
        field = null;
    }

    private void grow() {
        int n = walked.length * 2;
        walked = Arrays.copyOf(walked, n);
        isArray = Arrays.copyOf(isArray, n);
        arrayField = Arrays.copyOf(arrayField, n);
        candidate = Arrays.copyOf(candidate, n);
        hasText = Arrays.copyOf(hasText, n);
        hasData = Arrays.copyOf(hasData, n);
        if (markText != null) {
            marks();
        }
    }

    /** The marks' arrays, as long as the others (kept marks copied). */
    private void marks() {
        int n = walked.length;
        markText = markText == null ? new int[n] : Arrays.copyOf(markText, n);
        markMessages = markMessages == null ? new int[n] : Arrays.copyOf(markMessages, n);
        markMedia = markMedia == null ? new int[n] : Arrays.copyOf(markMedia, n);
        markTokenIds = markTokenIds == null ? new long[n] : Arrays.copyOf(markTokenIds, n);
    }
}
