package dev.tokenbudget.provider.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Objects;

/**
 * One scalar value of a provider response, as {@link JsonScanner} hands it over: its kind, its
 * text (strings are cut at {@value #TEXT_CAP} characters) and, when it is a valid token count,
 * that count. Equal, hashed and shown as a record of these three would be.
 *
 * <p>An integer count's text is made only when asked for, as {@link Long#toString(long)} of the count,
 * which is the text Jackson gives such a literal ({@code -0} included, which it reads as {@code 0}):
 * a stream's counts are read as numbers, and their text is wanted only to name a value that is not a
 * count.
 */
public final class Scalar {

    /** Longest string kept; provider fields we read (model, type, messages) are far shorter. */
    public static final int TEXT_CAP = 512;
    /** {@link #count()} of a value that is not a usable token count. */
    public static final long INVALID = -1;
    /** Largest valid count, the same as {@code TokenUsage.MAX}. */
    public static final long MAX_COUNT = (1L << 53) - 1;

    /** JSON value kinds. */
    public enum Kind { NUMBER, STRING, BOOLEAN, NULL }

    private final Kind kind;
    /** Null for JSON null, and for a count until {@link #text()} is asked for. */
    private String text;
    private final long count;

    /**
     * @param kind  what the JSON value was
     * @param text  the string value or the number's literal ({@code null} for JSON null)
     * @param count the value as a token count in {@code 0..2^53-1}, or {@link #INVALID} when the value
     *              is not one (negative, fractional, too large, not a number)
     */
    public Scalar(Kind kind, String text, long count) {
        this.kind = kind;
        this.text = text;
        this.count = count;
    }

    /** The scalar {@code parser} stands on, a value token {@code t}. */
    static Scalar read(JsonToken t, JsonParser parser) throws IOException {
        return switch (t) {
            case VALUE_NUMBER_INT -> parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    ? integer(parser.getText(), parser.getBigIntegerValue())
                    : integer(parser.getLongValue(), parser);
            case VALUE_NUMBER_FLOAT -> decimal(parser.getText());
            case VALUE_STRING -> {
                String v = parser.getText();
                yield new Scalar(Kind.STRING, v.length() > TEXT_CAP ? v.substring(0, TEXT_CAP) : v, INVALID);
            }
            case VALUE_TRUE, VALUE_FALSE -> new Scalar(Kind.BOOLEAN, parser.getText(), INVALID);
            default -> new Scalar(Kind.NULL, null, INVALID);
        };
    }

    /** An integer that fits a long: its literal is made a String here only when it is not a count. */
    private static Scalar integer(long v, JsonParser parser) throws IOException {
        return v >= 0 && v <= MAX_COUNT ? new Scalar(Kind.NUMBER, null, v) : integer(parser.getText(), v);
    }

    /** An integer that fits a long, with its literal. */
    static Scalar integer(String text, long v) {
        return new Scalar(Kind.NUMBER, text, v >= 0 && v <= MAX_COUNT ? v : INVALID);
    }

    /** An integer beyond a long, with its literal: never a count. */
    static Scalar integer(String text, BigInteger v) {
        return new Scalar(Kind.NUMBER, text, v.signum() >= 0 && v.bitLength() <= 53 ? v.longValue() : INVALID);
    }

    /** A number with a fraction or exponent: a count when its value is a whole number in range ({@code 12.0}). */
    static Scalar decimal(String text) {
        long count = INVALID;
        try {
            BigDecimal d = new BigDecimal(text);
            if (d.signum() >= 0 && d.compareTo(BigDecimal.valueOf(MAX_COUNT)) <= 0
                    && d.stripTrailingZeros().scale() <= 0) {
                count = d.longValueExact(); // 12.0 is twelve tokens; 12.5 is not a count
            }
        } catch (NumberFormatException | ArithmeticException e) {
            count = INVALID;
        }
        return new Scalar(Kind.NUMBER, text, count);
    }

    /** What the JSON value was. */
    public Kind kind() {
        return kind;
    }

    /** The string value or the number's literal ({@code null} for JSON null). */
    public String text() {
        if (text == null && kind == Kind.NUMBER) {
            text = Long.toString(count);
        }
        return text;
    }

    /** The value as a token count in {@code 0..2^53-1}, or {@link #INVALID}. */
    public long count() {
        return count;
    }

    public boolean isNull() {
        return kind == Kind.NULL;
    }

    /** True when this is a usable token count. */
    public boolean isCount() {
        return count != INVALID;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Scalar s && kind == s.kind && count == s.count && Objects.equals(text(), s.text());
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, text(), count);
    }

    @Override
    public String toString() {
        return "Scalar[kind=" + kind + ", text=" + text() + ", count=" + count + "]";
    }
}
