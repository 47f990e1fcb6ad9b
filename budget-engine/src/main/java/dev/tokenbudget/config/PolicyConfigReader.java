package dev.tokenbudget.config;

import dev.tokenbudget.budget.DegradeSpec;
import dev.tokenbudget.budget.Policy;
import dev.tokenbudget.budget.Threshold;
import dev.tokenbudget.price.PriceTable;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the staged policies of budgets and keys: {@code thresholds:} (percent and policy) and
 * {@code degrade:} (cheaper models, output ceilings, prompt variants, cache TTL, route).
 */
final class PolicyConfigReader {

    /** Model names travel in response headers and request bodies: visible ASCII only. */
    private static final Pattern MODEL = Pattern.compile("[\\x21-\\x7E]{1,256}");

    private static final Set<String> THRESHOLD = Set.of("at", "policy");
    private static final Set<String> DEGRADE = Set.of("models", "max_output_tokens", "clamp_to_remaining",
            "prompt_variants", "cache_ttl", "route");

    /** The default prices with the config's over them: degrade targets must be models it knows. */
    private PriceTable priceTable = PriceTable.ofDefaults();

    /** The prices degrade targets are checked against, once the config's {@code prices:} are read. */
    void prices(PriceTable table) {
        this.priceTable = table;
    }

    List<Threshold> thresholds(ConfigNode n) {
        List<Threshold> out = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        for (ConfigNode t : n.list()) {
            if (!t.expectObject(THRESHOLD)) {
                continue;
            }
            if (t.get("at").isMissing()) {
                t.get("at").error("is required: a percent of the limit, 1 to 100");
                continue;
            }
            int at = t.get("at").integer(-1, 1, 100);
            Policy p = t.get("policy").enumValue(Policy.class, Policy.ALERT_ONLY, s -> s);
            if (at < 0) {
                continue;
            }
            if (!seen.add(at)) {
                t.get("at").error("threshold " + at + " is listed twice");
                continue;
            }
            out.add(new Threshold(at, p));
        }
        if (n.raw() != null && n.raw().isArray() && n.raw().isEmpty()) {
            n.error("must hold at least one threshold (omit it for 75/90/100)");
        }
        return out;
    }

    DegradeSpec degrade(ConfigNode n) {
        if (!n.expectObject(DEGRADE)) {
            return DegradeSpec.NONE;
        }
        Map<String, String> models = n.get("models").stringMap();
        models.forEach((from, to) -> {
            // the cheaper model goes into the x-tokenbudget-degraded-model response header
            if (!MODEL.matcher(from).matches() || !MODEL.matcher(to).matches()) {
                n.get("models").error("'" + ConfigLoader.printable(from) + "' -> '" + ConfigLoader.printable(to)
                        + "': model names are 1-256 visible ASCII characters, without spaces or control characters");
            } else if (!priceTable.knows(to)) {
                // the source is whatever name clients send and needs no price; the target is chosen here
                n.get("models").get(from).error("unknown model '" + to + "': a degrade target must be a model "
                        + "the price table knows" + closestModels(to) + "; add it under 'prices' (dollars per "
                        + "million tokens) if it is yours to name, e.g. a self-hosted model");
            }
        });
        long max = n.get("max_output_tokens").positiveTokens();
        Map<String, String> prompts = n.get("prompt_variants").stringMap();
        String ttl = n.get("cache_ttl").string(null);
        if (ttl != null) {
            // sent upstream as the x-tokenbudget-cache-ttl header value: checked, then without blanks
            n.get("cache_ttl").duration(null);
            ttl = Quantities.blanksOff(ttl);
        }
        String route = n.get("route").string(DegradeSpec.DEFAULT_ROUTE);
        if (!ConfigLoader.ID.matcher(route).matches()) {
            n.get("route").error("must be 1-64 of A-Z a-z 0-9 . _ -, was '" + route + "'");
        }
        return new DegradeSpec(models, max, n.get("clamp_to_remaining").bool(false), prompts, ttl, route);
    }

    /** A budget whose thresholds degrade needs a degrade section that changes something; the error is at {@code b}. */
    static void checkDegradePolicy(ConfigNode b, List<Threshold> thresholds, DegradeSpec degrade) {
        boolean degrades = thresholds.stream().anyMatch(t -> t.policy() == Policy.DEGRADE_ROUTE);
        if (degrades && degrade.models().isEmpty() && degrade.maxOutputTokens() < 0
                && degrade.promptVariants().isEmpty() && !degrade.clampToRemaining()) {
            b.get("degrade").error("a threshold uses degrade_route, so degrade needs models, max_output_tokens, "
                    + "clamp_to_remaining or prompt_variants");
        }
    }

    /** " (did you mean 'a', 'b'?)" with the up to three known models nearest to {@code model}, or nothing. */
    private String closestModels(String model) {
        String m = model.toLowerCase(Locale.ROOT);
        List<String> near = priceTable.entries().keySet().stream()
                .filter(k -> ConfigNode.distance(m, k) <= Math.max(2, k.length() / 3))
                .sorted(Comparator.comparingInt((String k) -> ConfigNode.distance(m, k))
                        .thenComparing(k -> k))
                .limit(3).toList();
        return near.isEmpty() ? " (it has no model near that name; docs/usage.md#prices lists the defaults)"
                : " (did you mean " + String.join(", ", near.stream().map(k -> "'" + k + "'").toList()) + "?)";
    }
}
