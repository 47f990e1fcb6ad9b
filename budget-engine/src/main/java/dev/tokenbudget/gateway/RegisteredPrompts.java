package dev.tokenbudget.gateway;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.engine.RouteDirective;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The system prompts a degrade may swap: the config's {@code prompts:} with the host's own
 * registrations (Spring properties, builder calls), checked against every degrade spec, so that a
 * missing text fails at start-up rather than leaving prompts silently unchanged when a budget degrades.
 */
final class RegisteredPrompts {

    private final Map<String, String> texts;

    /**
     * @throws IllegalArgumentException when a degrade spec's {@code prompt_variants} names a prompt that
     *         neither the config's {@code prompts:} nor the options register, or both register one id with
     *         different texts
     */
    RegisteredPrompts(EngineConfig config, GatewayOptions options) {
        Map<String, String> all = new HashMap<>(config.prompts());
        List<String> problems = new ArrayList<>();
        options.prompts().forEach((id, text) -> {
            String other = all.putIfAbsent(id, text);
            if (other != null && !other.equals(text)) {
                problems.add("prompt '" + id + "' is registered twice with different texts (in the config's "
                        + "prompts: and by the gateway host); keep one");
            }
        });
        for (Budget b : config.budgets().budgets()) {
            b.degrade().promptVariants().forEach((from, to) -> {
                for (String id : List.of(from, to)) {
                    if (!all.containsKey(id)) {
                        problems.add("budget '" + b.id() + "': degrade.prompt_variants names prompt '" + id
                                + "', which is not registered: add its exact text under prompts: in the config");
                    }
                }
            });
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        this.texts = Map.copyOf(all);
    }

    /** A directive's prompt swaps as texts: the text of each id to the text of its variant. */
    Map<String, String> swaps(RouteDirective dir) {
        Map<String, String> swaps = new HashMap<>();
        // every id is registered: the constructor checked each degrade spec's prompt_variants
        dir.promptVariants().forEach((from, to) -> swaps.put(texts.get(from), texts.get(to)));
        return swaps;
    }
}
