package dev.tokenbudget.config;

/**
 * One problem in a config: where ({@code budgets[2].windows[0].limits.output}) and what. Both are
 * made safe to log on construction: control characters and line separators, which a bad value
 * quoted in the message may hold, are written as Java escapes (backslash, u, four hex digits), so
 * an error is always one line.
 */
public record ConfigError(String path, String message) {

    public ConfigError {
        path = oneLine(path);
        message = oneLine(message);
    }

    @Override
    public String toString() {
        return path.isEmpty() ? message : path + ": " + message;
    }

    /** {@code s} with C0/C1 controls, DEL and U+2028/U+2029 escaped; null stays null. */
    static String oneLine(String s) {
        if (s == null || s.codePoints().noneMatch(ConfigError::breaksLines)) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        s.codePoints().forEach(c -> {
            if (breaksLines(c)) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }

    private static boolean breaksLines(int c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029;
    }
}
