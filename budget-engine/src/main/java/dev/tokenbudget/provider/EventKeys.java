package dev.tokenbudget.provider;

import java.nio.charset.StandardCharsets;

/**
 * The field names of which a streamed event must hold at least one for a {@link UsageCollector} to
 * learn anything from it, found by a byte search instead of a JSON parse: most events of a stream
 * are text deltas that carry no usage, and parsing each one was most of a stream's metering cost.
 *
 * <p>The search may say yes where a parse would find nothing (a name inside a string, a field at
 * another depth): the event is then parsed, as before. It must never say no where the parse would
 * find a wanted path, so it says yes on anything it cannot rule out by bytes alone:
 * <ul>
 *   <li>a name counts wherever it stands in quotes, as a field name or as a string value (Anthropic's
 *       {@code "type":"message_stop"}), unless it is a field whose value is {@code null} (OpenAI sends
 *       {@code "usage":null} in every chunk when usage was asked for, and a null value holds no paths);
 *   <li>an escaped character in U+0040..U+007F ({@code \u0075} for {@code u}) may spell a name in a
 *       way the search does not see, so an event holding one is always parsed.
 * </ul>
 * A malformed event is ignored by the collector whether or not it is parsed, so skipping one changes
 * nothing. Names are ASCII letters and underscores.
 */
final class EventKeys {

    private final byte[][] names;
    /** The bytes a name starts with: a quote followed by any other byte is passed over at once. */
    private final boolean[] firsts = new boolean[128];

    private EventKeys(String... names) {
        this.names = new byte[names.length][];
        for (int i = 0; i < names.length; i++) {
            boolean valid = !names[i].isEmpty();
            for (char c : names[i].toCharArray()) {
                valid &= c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_';
            }
            if (!valid) {
                throw new IllegalArgumentException("not a name of ASCII letters and '_': \"" + names[i] + "\"");
            }
            this.names[i] = names[i].getBytes(StandardCharsets.US_ASCII);
            firsts[this.names[i][0]] = true;
        }
    }

    static EventKeys of(String... names) {
        return new EventKeys(names);
    }

    /** False only when {@code b[off, off + len)} cannot hold any of the names with a value other than null. */
    boolean mayHold(byte[] b, int off, int len) {
        int end = off + len;
        for (int i = off; i < end; i++) {
            byte c = b[i];
            if (c == '"') {
                if (i + 1 < end && b[i + 1] >= 0 && firsts[b[i + 1]] && nameAt(b, i + 1, end)) {
                    return true;
                }
            } else if (c == '\\' && i + 4 < end && b[i + 1] == 'u' && b[i + 2] == '0' && b[i + 3] == '0'
                    && b[i + 4] >= '4' && b[i + 4] <= '7') {
                return true;
            }
        }
        return false;
    }

    /** True when one of the names, closed by a quote, starts at {@code at} and is not a field set to null. */
    private boolean nameAt(byte[] b, int at, int end) {
        for (byte[] n : names) {
            int close = at + n.length;
            if (close >= end || b[close] != '"' || !matches(b, at, n)) {
                continue;
            }
            if (!nullField(b, close + 1, end)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(byte[] b, int at, byte[] n) {
        for (int k = 0; k < n.length; k++) {
            if (b[at + k] != n[k]) {
                return false;
            }
        }
        return true;
    }

    /** After a closing quote at {@code i - 1}: a colon, then {@code null} (blanks allowed between). */
    private static boolean nullField(byte[] b, int i, int end) {
        i = blanks(b, i, end);
        if (i >= end || b[i] != ':') {
            return false;
        }
        i = blanks(b, i + 1, end);
        return i + 4 <= end && b[i] == 'n' && b[i + 1] == 'u' && b[i + 2] == 'l' && b[i + 3] == 'l';
    }

    private static int blanks(byte[] b, int i, int end) {
        while (i < end && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
            i++;
        }
        return i;
    }
}
