package dev.tokenbudget.provider.json;

/**
 * One scalar value of a provider response, as {@link JsonScanner} hands it over: its kind, its
 * text (strings are cut at {@value #TEXT_CAP} characters) and, when it is a valid token count,
 * that count.
 *
 * @param kind  what the JSON value was
 * @param text  the string value or the number's literal ({@code null} for JSON null)
 * @param count the value as a token count in {@code 0..2^53-1}, or {@link #INVALID} when the value
 *              is not one (negative, fractional, too large, not a number)
 */
public record Scalar(Kind kind, String text, long count) {

    /** Longest string kept; provider fields we read (model, type, messages) are far shorter. */
    public static final int TEXT_CAP = 512;
    /** {@link #count()} of a value that is not a usable token count. */
    public static final long INVALID = -1;
    /** Largest valid count, the same as {@code TokenUsage.MAX}. */
    public static final long MAX_COUNT = (1L << 53) - 1;

    /** JSON value kinds. */
    public enum Kind { NUMBER, STRING, BOOLEAN, NULL }

    public boolean isNull() {
        return kind == Kind.NULL;
    }

    /** True when this is a usable token count. */
    public boolean isCount() {
        return count != INVALID;
    }
}
