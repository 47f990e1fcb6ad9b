package dev.tokenbudget.routing;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the rate-limit headers providers send with every response, to calibrate an
 * {@link UpstreamLimiter} against what the provider itself says is left:
 * OpenAI's {@code x-ratelimit-limit-*} / {@code x-ratelimit-remaining-*} /
 * {@code x-ratelimit-reset-*} (durations such as {@code 6m0s}, {@code 1.5s}, {@code 20ms}) and
 * Anthropic's {@code anthropic-ratelimit-*-limit} / {@code -remaining} / {@code -reset} (RFC 3339
 * instants) for requests, input tokens, output tokens and tokens. Unparseable values are ignored.
 */
public final class RateLimitHeaders {

    private static final Pattern GO_DURATION = Pattern.compile("(?:(\\d+)h)?(?:(\\d+)m(?!s))?(?:(\\d+(?:\\.\\d+)?)s)?"
            + "(?:(\\d+(?:\\.\\d+)?)ms)?");

    /** What a response said; empty where it said nothing. */
    public record Reading(OptionalLong requestsLimit, OptionalLong requestsRemaining, OptionalLong inputLimit,
                          OptionalLong inputRemaining, OptionalLong outputLimit, OptionalLong outputRemaining,
                          OptionalLong tokensLimit, OptionalLong tokensRemaining, Duration tokensReset) {

        public boolean isEmpty() {
            return requestsRemaining.isEmpty() && inputRemaining.isEmpty() && outputRemaining.isEmpty()
                    && tokensRemaining.isEmpty() && requestsLimit.isEmpty() && tokensLimit.isEmpty()
                    && inputLimit.isEmpty() && outputLimit.isEmpty();
        }
    }

    private RateLimitHeaders() {
    }

    /** Reads the headers through {@code header} (a case-insensitive lookup returning null when absent). */
    public static Reading read(Function<String, String> header, Instant now) {
        if (header.apply("anthropic-ratelimit-requests-limit") != null
                || header.apply("anthropic-ratelimit-input-tokens-remaining") != null
                || header.apply("anthropic-ratelimit-tokens-remaining") != null) {
            String p = "anthropic-ratelimit-";
            return new Reading(num(header, p + "requests-limit"), num(header, p + "requests-remaining"),
                    num(header, p + "input-tokens-limit"), num(header, p + "input-tokens-remaining"),
                    num(header, p + "output-tokens-limit"), num(header, p + "output-tokens-remaining"),
                    num(header, p + "tokens-limit"), num(header, p + "tokens-remaining"),
                    instant(header.apply(p + "tokens-reset"), now));
        }
        String p = "x-ratelimit-";
        return new Reading(num(header, p + "limit-requests"), num(header, p + "remaining-requests"),
                OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
                num(header, p + "limit-tokens"), num(header, p + "remaining-tokens"),
                goDuration(header.apply(p + "reset-tokens")));
    }

    private static OptionalLong num(Function<String, String> header, String name) {
        String v = header.apply(name);
        if (v == null) {
            return OptionalLong.empty();
        }
        try {
            long n = Long.parseLong(v.trim());
            return n < 0 ? OptionalLong.empty() : OptionalLong.of(n);
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private static Duration instant(String v, Instant now) {
        if (v == null) {
            return null;
        }
        try {
            Duration d = Duration.between(now, Instant.parse(v.trim()));
            return d.isNegative() ? Duration.ZERO : d;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** OpenAI's reset durations: {@code 1h2m3s}, {@code 6m0s}, {@code 1.5s}, {@code 20ms}. */
    static Duration goDuration(String v) {
        if (v == null || v.isBlank()) {
            return null;
        }
        Matcher m = GO_DURATION.matcher(v.trim());
        if (!m.matches()) {
            return null;
        }
        double ms = 0;
        ms += m.group(1) == null ? 0 : Long.parseLong(m.group(1)) * 3_600_000.0;
        ms += m.group(2) == null ? 0 : Long.parseLong(m.group(2)) * 60_000.0;
        ms += m.group(3) == null ? 0 : Double.parseDouble(m.group(3)) * 1000;
        ms += m.group(4) == null ? 0 : Double.parseDouble(m.group(4));
        return Duration.ofNanos((long) (ms * 1_000_000));
    }
}
