package dev.tokenbudget.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the human forms a config accepts: token counts ({@code 20M}) and durations ({@code 7d}). */
public final class Quantities {

    /** Largest token count accepted anywhere: Lua (Redis) numbers are exact only up to 2^53. */
    public static final long MAX_TOKENS = (1L << 53) - 1;

    private static final Pattern TOKENS = Pattern.compile("(\\d+(?:\\.\\d+)?)[ \\t]*([kKmMbBgG]?)");
    private static final Pattern DURATION = Pattern.compile("(\\d+)[ \\t]*(ms|s|m|h|d|w)");

    private Quantities() {
    }

    /** {@code 20000}, {@code "500k"}, {@code "20M"}, {@code "1B"} (or {@code G}); throws with a reason. */
    public static long tokens(String text) {
        Matcher m = TOKENS.matcher(blanksOff(text));
        if (!m.matches()) {
            throw new IllegalArgumentException("must be a whole number of tokens such as 20000, 500k, 20M or 1B, was '"
                    + text + "'");
        }
        double base = Double.parseDouble(m.group(1));
        double mult = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 1e3;
            case "m" -> 1e6;
            case "b", "g" -> 1e9;
            default -> 1;
        };
        double v = base * mult;
        if (v != Math.rint(v)) {
            throw new IllegalArgumentException("must be a whole number of tokens, was '" + text + "'");
        }
        if (v > MAX_TOKENS) {
            throw new IllegalArgumentException("must be at most 2^53-1 (" + MAX_TOKENS + "), was '" + text + "'");
        }
        return (long) v;
    }

    /** {@code 50ms}, {@code 30s}, {@code 10m}, {@code 24h}, {@code 7d}, {@code 2w}; throws with a reason. */
    public static Duration duration(String text) {
        Matcher m = DURATION.matcher(blanksOff(text));
        if (!m.matches()) {
            throw new IllegalArgumentException("must be a duration such as 50ms, 30s, 10m, 24h or 7d, was '" + text
                    + "'");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            case "w" -> Duration.ofDays(7 * n);
            default -> throw new IllegalStateException(m.group(2));
        };
    }

    /**
     * A token count the way configs write it: {@code 1B}, {@code 1.1B}, {@code 400M}, {@code 60k};
     * exact values with more digits than that are written out ({@code 1234567}).
     */
    public static String formatTokens(long n) {
        long[] units = {1_000_000_000L, 1_000_000L, 1_000L};
        String[] names = {"B", "M", "k"};
        for (int i = 0; i < units.length; i++) {
            long u = units[i];
            if (n >= u && n % (u / 10) == 0) {
                long whole = n / u;
                long tenth = n % u / (u / 10);
                return whole + (tenth == 0 ? "" : "." + tenth) + names[i];
            }
        }
        return Long.toString(n);
    }

    /**
     * {@code text} without the spaces and tabs around it, and nothing else: a line break or a
     * control character makes it no quantity (a duration is also sent as a header value).
     */
    static String blanksOff(String text) {
        int from = 0;
        int to = text.length();
        while (from < to && (text.charAt(from) == ' ' || text.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (text.charAt(to - 1) == ' ' || text.charAt(to - 1) == '\t')) {
            to--;
        }
        return text.substring(from, to);
    }
}
