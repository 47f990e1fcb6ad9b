package dev.tokenbudget.store;

import dev.tokenbudget.budget.Dimension;

/** Input, output and total token counts (used or reserved) of one window. */
public record TokenCounts(long input, long output, long total) {

    public static final TokenCounts ZERO = new TokenCounts(0, 0, 0);

    public static TokenCounts of(long input, long output) {
        return new TokenCounts(input, output, input + output);
    }

    public long get(Dimension d) {
        return switch (d) {
            case INPUT -> input;
            case OUTPUT -> output;
            case TOTAL -> total;
        };
    }

    public TokenCounts plus(TokenCounts o) {
        return new TokenCounts(input + o.input, output + o.output, total + o.total);
    }
}
