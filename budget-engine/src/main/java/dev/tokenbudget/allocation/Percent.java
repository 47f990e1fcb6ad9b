package dev.tokenbudget.allocation;

/**
 * Percentages of token counts, exact for any count up to 2^53 (so that the Redis scripts, whose
 * numbers are doubles, compute the very same values): {@code floor(n × p / 100)} without forming
 * {@code n × p}.
 */
public final class Percent {

    private Percent() {
    }

    /** {@code floor(n × percent / 100)} for {@code n >= 0} and {@code 0 <= percent <= 1000}. */
    public static long of(long n, int percent) {
        return n / 100 * percent + n % 100 * percent / 100;
    }
}
