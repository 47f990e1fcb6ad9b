package dev.tokenbudget.engine;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The response headers every adapter sets from a decision, so that clients see the same thing
 * behind any gateway: remaining tokens, utilisation, the binding budget, the route of a degraded
 * request (with its cheaper model and clamped output ceiling), {@code Retry-After} on a rejection
 * that waiting can cure (429, 503; never on a 400, such as a request larger than a whole window),
 * and the IETF {@code RateLimit} / {@code RateLimit-Policy}
 * fields (draft-ietf-httpapi-ratelimit-headers: a quoted policy name with {@code q} quota and
 * {@code w} window seconds; {@code r} remaining and {@code t} seconds to reset).
 */
public final class DecisionHeaders {

    public static final String DECISION = "x-tokenbudget-decision";
    public static final String BUDGET = "x-tokenbudget-budget";
    public static final String REMAINING = "x-tokenbudget-remaining-tokens";
    public static final String UTILIZATION = "x-tokenbudget-utilization";
    public static final String ROUTE = "x-tokenbudget-route";
    public static final String DEGRADED_MODEL = "x-tokenbudget-degraded-model";
    public static final String CACHE_TTL = "x-tokenbudget-cache-ttl";
    /** The most output tokens a degraded request was sent with (its clamped output ceiling). */
    public static final String MAX_OUTPUT_TOKENS = "x-tokenbudget-max-output-tokens";
    /**
     * A refusal's code ({@link Decision.Reason#code()}), for every provider's shape: Anthropic's and
     * Gemini's error bodies have no field for it.
     */
    public static final String ERROR_CODE = "x-tokenbudget-error-code";
    public static final String RETRY_AFTER = "Retry-After";
    public static final String RATELIMIT = "RateLimit";
    public static final String RATELIMIT_POLICY = "RateLimit-Policy";

    /** Each outcome's header value, its name in lower case, made once. */
    private static final String[] OUTCOMES = Arrays.stream(Decision.Outcome.values())
            .map(o -> o.name().toLowerCase(Locale.ROOT)).toArray(String[]::new);

    private DecisionHeaders() {
    }

    /**
     * Headers for the client's response, in a stable order: an unmodifiable map over one array (built
     * on every admitted request, where a {@code LinkedHashMap} and its entries were about an eighth of
     * the bytes the gateway layer allocated per JSON request).
     */
    public static Map<String, String> forResponse(Decision d) {
        Pairs h = new Pairs();
        h.add(DECISION, OUTCOMES[d.outcome().ordinal()]);
        if (d.bindingBudget() != null) {
            h.add(BUDGET, d.bindingBudget());
        }
        if (d.dimension() != null) {
            h.add(REMAINING, Long.toString(d.remaining()));
            h.add(UTILIZATION, fourDecimals(d.utilisation()));
            // the quoted policy name written into each value, not made a string of its own
            h.add(RATELIMIT_POLICY, "\"" + d.bindingBudget() + "\";q=" + d.limit() + ";w=" + d.windowSeconds());
            // t: when the request may be retried; for an admission, or a refusal no wait cures, the reset
            h.add(RATELIMIT, "\"" + d.bindingBudget() + "\";r=" + d.remaining() + ";t="
                    + (d.admitted() || d.retryAfterSeconds() == 0 ? d.resetSeconds() : d.retryAfterSeconds()));
        }
        if (d.directive() != null) {
            h.add(ROUTE, d.directive().route());
            if (d.directive().model() != null) {
                h.add(DEGRADED_MODEL, d.directive().model());
            }
            if (d.directive().maxOutputTokens() >= 0) {
                h.add(MAX_OUTPUT_TOKENS, Long.toString(d.directive().maxOutputTokens()));
            }
        }
        if (!d.admitted()) {
            h.add(ERROR_CODE, d.reason().code());
        }
        // a 400 or 403 is answered the same however long the client waits: no Retry-After
        if (!d.admitted() && (d.httpStatus() == 429 || d.httpStatus() == 503)) {
            h.add(RETRY_AFTER, Long.toString(Math.max(1, d.retryAfterSeconds())));
        }
        return h;
    }

    /**
     * {@link #forResponse}'s map: the names and values in the order added, side by side in one array;
     * {@link #forEach} (what adapters call to set them) walks it without entry objects. Every name is
     * added at most once, so lookups walk it too.
     */
    static final class Pairs extends AbstractMap<String, String> {
        /** The most headers {@link #forResponse} sets: every constant above but the two upstream ones. */
        static final int MAX = 11;
        private final String[] pairs = new String[2 * MAX];
        private int size;

        private void add(String name, String value) {
            pairs[2 * size] = name;
            pairs[2 * size + 1] = value;
            size++;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public String get(Object key) {
            for (int i = 0; i < size; i++) {
                if (pairs[2 * i].equals(key)) {
                    return pairs[2 * i + 1];
                }
            }
            return null;
        }

        @Override
        public boolean containsKey(Object key) {
            for (int i = 0; i < size; i++) {
                if (pairs[2 * i].equals(key)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public void forEach(BiConsumer<? super String, ? super String> action) {
            for (int i = 0; i < size; i++) {
                action.accept(pairs[2 * i], pairs[2 * i + 1]);
            }
        }

        @Override
        public Set<Entry<String, String>> entrySet() {
            return new AbstractSet<>() {
                @Override
                public Iterator<Entry<String, String>> iterator() {
                    return new Iterator<>() {
                        private int next;

                        @Override
                        public boolean hasNext() {
                            return next < size;
                        }

                        @Override
                        public Entry<String, String> next() {
                            if (next >= size) {
                                throw new NoSuchElementException();
                            }
                            int i = 2 * next++;
                            return new SimpleImmutableEntry<>(pairs[i], pairs[i + 1]);
                        }
                    };
                }

                @Override
                public int size() {
                    return size;
                }
            };
        }
    }

    /**
     * {@code String.format(Locale.ROOT, "%.4f", v)}, without a Formatter: this runs on every
     * response, where the format call was about 3% of a gateway's CPU under load. Same digits:
     * Formatter rounds the shortest decimal form of the double ({@link Double#toString}) half-up,
     * as this does on that form's digits. Below 0.001 (every budget early in its window) that form
     * is in E notation, read here as the same digits written out; from 10^7 and for negative values
     * the slower exact way is taken.
     */
    static String fourDecimals(double v) {
        String shortest = Double.toString(v);
        if (v > 0 && v < 0.001) {
            shortest = plain(shortest);
        }
        int dot = shortest.indexOf('.');
        if (!Double.isFinite(v) || v < 0 || dot < 0 || shortest.indexOf('E') >= 0) {
            return Double.isFinite(v)
                    ? new BigDecimal(shortest).setScale(4, RoundingMode.HALF_UP).toPlainString()
                    : String.format(Locale.ROOT, "%.4f", v);
        }
        int fraction = shortest.length() - dot - 1;
        // the integer digits and the first four decimals, without the dot
        char[] digits = new char[dot + 4];
        shortest.getChars(0, dot, digits, 0);
        for (int i = 0; i < 4; i++) {
            digits[dot + i] = i < fraction ? shortest.charAt(dot + 1 + i) : '0';
        }
        boolean carry = fraction > 4 && shortest.charAt(dot + 5) >= '5';
        for (int i = digits.length - 1; carry && i >= 0; i--) {
            carry = digits[i] == '9';
            digits[i] = carry ? '0' : (char) (digits[i] + 1);
        }
        int integerDigits = dot + (carry ? 1 : 0);
        StringBuilder out = new StringBuilder(integerDigits + 5);
        if (carry) {
            out.append('1');
        }
        return out.append(digits, 0, dot).append('.').append(digits, dot, 4).toString();
    }

    /** {@code d.dddE-n} (n >= 4, as Double.toString writes values below 0.001) as {@code 0.000ddd}. */
    private static String plain(String e) {
        int exp = e.indexOf('E');
        int n = -Integer.parseInt(e, exp + 1, e.length(), 10);
        StringBuilder b = new StringBuilder(n + exp + 1).append("0.");
        b.append("0".repeat(n - 1)).append(e.charAt(0));
        if (exp > 2 || e.charAt(2) != '0') {
            b.append(e, 2, exp); // the mantissa's decimals, unless it is a bare "d.0"
        }
        return b.toString();
    }

    /**
     * Headers for the upstream request of a degraded one: the route label (for a route predicate,
     * Envoy's router or APISIX's traffic-split to match) and the cache-TTL directive.
     */
    public static Map<String, String> forUpstream(Decision d) {
        Map<String, String> h = new LinkedHashMap<>();
        if (d.directive() != null) {
            h.put(ROUTE, d.directive().route());
            if (d.directive().cacheTtl() != null) {
                h.put(CACHE_TTL, d.directive().cacheTtl());
            }
        }
        return h;
    }
}
