package dev.tokenbudget.store;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Tokens of a budget window held back, as a store applies it: while {@code now < until}, a
 * request that is not charged to {@code forBudget} may use the window only up to its cap minus
 * the part of the hold not yet consumed; the beneficiary consumes the hold with its own usage of
 * its window of the same span (its used + reserved tokens, as mirrored into the holding window).
 * A hold without a beneficiary is consumed by nobody: it keeps its tokens from every request
 * until it ends.
 *
 * @param id         unique within the window
 * @param forBudget  the direct child the tokens are held for, or null
 * @param tokens     tokens held per dimension (0 where nothing is held)
 * @param until      when the hold ends and its tokens become free for everybody
 */
public record Hold(String id, String forBudget, TokenCounts tokens, Instant until) {

    /** Ids and budget ids travel in store fields separated by , | and ; (reserve.lua): none of those. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:@+-]{1,160}");

    public Hold {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(until, "until");
        if (!NAME.matcher(id).matches()) {
            throw new IllegalArgumentException("hold id must be 1-160 of A-Z a-z 0-9 . _ : @ + -, was '" + id + "'");
        }
        if (forBudget != null && !NAME.matcher(forBudget).matches()) {
            throw new IllegalArgumentException("hold beneficiary must be a budget id, was '" + forBudget + "'");
        }
        for (long v : new long[] {tokens.input(), tokens.output(), tokens.total()}) {
            if (v < 0 || v > TokenCounts.MAX) {
                throw new IllegalArgumentException("hold " + id + ": tokens must be >= 0 and at most 2^53-1, was "
                        + tokens);
            }
        }
    }

    /** Whether the hold is still in force at {@code now}. */
    public boolean activeAt(Instant now) {
        return now.isBefore(until);
    }
}
