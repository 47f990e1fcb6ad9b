package dev.tokenbudget.store;

import dev.tokenbudget.budget.Dimension;

/** Input, output and total token counts (used or reserved) of one window. */
public record TokenCounts(long input, long output, long total) {

    public static final TokenCounts ZERO = new TokenCounts(0, 0, 0);

    /** Largest count a store accepts: Lua numbers (Redis scripts) are exact only up to 2^53. */
    public static final long MAX = (1L << 53) - 1;

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

    /**
     * Refuses negative amounts and amounts whose total exceeds {@link #MAX}, naming the command and
     * its lease ({@code "reserve"}, {@code "lease-1"}); the message is built only for a refusal.
     */
    static void checkAmounts(String command, String leaseId, long input, long output) {
        if (input < 0 || output < 0 || input > MAX || output > MAX || input + output > MAX) {
            throw new IllegalArgumentException(command + " of lease " + leaseId + ": input and output tokens must be"
                    + " >= 0 and at most 2^53-1 (" + MAX + ") together, was input=" + input + " output=" + output);
        }
    }
}
