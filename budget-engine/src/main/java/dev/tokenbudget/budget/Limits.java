package dev.tokenbudget.budget;

/**
 * Token limits of one window; {@link #NONE} (-1) where a dimension is not limited.
 * At least one dimension is limited in a valid config.
 */
public record Limits(long input, long output, long total) {

    public static final long NONE = -1;

    public Limits {
        check("input", input);
        check("output", output);
        check("total", total);
    }

    private static void check(String what, long v) {
        if (v != NONE && v <= 0) {
            throw new IllegalArgumentException(what + " limit must be > 0 or NONE, was " + v);
        }
    }

    public static Limits total(long total) {
        return new Limits(NONE, NONE, total);
    }

    public long get(Dimension d) {
        return switch (d) {
            case INPUT -> input;
            case OUTPUT -> output;
            case TOTAL -> total;
        };
    }

    public boolean has(Dimension d) {
        return get(d) != NONE;
    }

    public Limits with(Dimension d, long value) {
        return switch (d) {
            case INPUT -> new Limits(value, output, total);
            case OUTPUT -> new Limits(input, value, total);
            case TOTAL -> new Limits(input, output, value);
        };
    }
}
