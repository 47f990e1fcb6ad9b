package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Dimension;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link DecisionHeaders#forResponse} builds its own array-backed map: it must read as the ordered
 * {@code LinkedHashMap} it replaced, through every way adapters and tests read a map.
 */
class DecisionHeadersMapProperties {

    @Property(tries = 3000)
    void forResponseReadsAsAnOrderedMapOfTheSameHeaders(@ForAll("decisions") Decision d) {
        Map<String, String> h = DecisionHeaders.forResponse(d);
        Map<String, String> expected = reference(d);

        assertThat(h).isEqualTo(expected);
        assertThat(expected).isEqualTo(h);
        assertThat(h.hashCode()).isEqualTo(expected.hashCode());
        assertThat(h).hasSize(expected.size());
        assertThat(new ArrayList<>(h.entrySet())).containsExactlyElementsOf(expected.entrySet());
        List<String> walked = new ArrayList<>();
        h.forEach((k, v) -> {
            walked.add(k);
            walked.add(v);
        });
        List<String> ordered = new ArrayList<>();
        expected.forEach((k, v) -> {
            ordered.add(k);
            ordered.add(v);
        });
        assertThat(walked).isEqualTo(ordered);
        for (String name : List.of(DecisionHeaders.DECISION, DecisionHeaders.BUDGET, DecisionHeaders.REMAINING,
                DecisionHeaders.UTILIZATION, DecisionHeaders.ROUTE, DecisionHeaders.DEGRADED_MODEL,
                DecisionHeaders.CACHE_TTL, DecisionHeaders.MAX_OUTPUT_TOKENS, DecisionHeaders.ERROR_CODE,
                DecisionHeaders.RETRY_AFTER, DecisionHeaders.RATELIMIT, DecisionHeaders.RATELIMIT_POLICY, "other")) {
            assertThat(h.get(name)).isEqualTo(expected.get(name));
            assertThat(h.containsKey(name)).isEqualTo(expected.containsKey(name));
        }
        assertThat(h.get(null)).isNull();
        assertThat(h.size()).isLessThanOrEqualTo(DecisionHeaders.Pairs.MAX);
        assertThatThrownBy(() -> h.put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> h.entrySet().iterator().next().setValue("y"))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> h.entrySet().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThat(new LinkedHashMap<>(h)).isEqualTo(expected);
    }

    @Provide
    Arbitrary<Decision> decisions() {
        Arbitrary<String> names = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(12);
        Arbitrary<RouteDirective> directives = Combinators.combine(names, names.injectNull(0.3),
                Arbitraries.longs().between(-1, 100_000), names.injectNull(0.5))
                .as((route, model, max, ttl) -> new RouteDirective(route, model, max, Map.of(), ttl));
        Arbitrary<long[]> counts = Arbitraries.longs().between(0, 1L << 40).array(long[].class).ofSize(5);
        return Combinators.combine(Arbitraries.of(Decision.Outcome.class), Arbitraries.of(Decision.Reason.class),
                names.injectNull(0.2), Arbitraries.of(Dimension.class).injectNull(0.3), counts,
                Arbitraries.doubles().between(0, 3), directives.injectNull(0.5))
                .as((outcome, reason, budget, dimension, n, utilisation, directive) -> new Decision(outcome, reason,
                        budget, "month", dimension, n[0], n[1], utilisation, n[2], n[3], n[4] % 3 == 0 ? 0 : n[4],
                        directive, "message"));
    }

    /** The headers as the former {@code LinkedHashMap} version put them, in its order. */
    private static Map<String, String> reference(Decision d) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("x-tokenbudget-decision", d.outcome().name().toLowerCase(Locale.ROOT));
        if (d.bindingBudget() != null) {
            h.put("x-tokenbudget-budget", d.bindingBudget());
        }
        if (d.dimension() != null) {
            h.put("x-tokenbudget-remaining-tokens", Long.toString(d.remaining()));
            h.put("x-tokenbudget-utilization", String.format(Locale.ROOT, "%.4f", d.utilisation()));
            String quoted = "\"" + d.bindingBudget() + "\"";
            h.put("RateLimit-Policy", quoted + ";q=" + d.limit() + ";w=" + d.windowSeconds());
            long t = d.admitted() || d.retryAfterSeconds() == 0 ? d.resetSeconds() : d.retryAfterSeconds();
            h.put("RateLimit", quoted + ";r=" + d.remaining() + ";t=" + t);
        }
        if (d.directive() != null) {
            h.put("x-tokenbudget-route", d.directive().route());
            if (d.directive().model() != null) {
                h.put("x-tokenbudget-degraded-model", d.directive().model());
            }
            if (d.directive().maxOutputTokens() >= 0) {
                h.put("x-tokenbudget-max-output-tokens", Long.toString(d.directive().maxOutputTokens()));
            }
        }
        if (!d.admitted()) {
            h.put("x-tokenbudget-error-code", d.reason().code());
        }
        if (!d.admitted() && (d.httpStatus() == 429 || d.httpStatus() == 503)) {
            h.put("Retry-After", Long.toString(Math.max(1, d.retryAfterSeconds())));
        }
        return h;
    }
}
