package dev.tokenbudget.routing;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Named upstream quotas as the providers publish them, as starting points: every preset is
 * overridable in config and is corrected at run time from the providers' own rate-limit response
 * headers ({@link RateLimitHeaders}). Numbers per minute, as published in OpenAI's and
 * Anthropic's rate-limit documentation; taken {@value #TAKEN} (docs/routing.md lists them).
 * Providers change them and grant custom limits: check your console.
 */
public final class TierPresets {

    /** When the numbers below were taken from the providers' documentation. */
    public static final String TAKEN = "2026-11-28";

    private static final Map<String, TierLimits> PRESETS = new LinkedHashMap<>();

    static {
        // OpenAI, GPT-4o / GPT-4.1 class: RPM, TPM (input + output) per usage tier
        long[][] gpt4o = {{500, 30_000}, {5_000, 450_000}, {5_000, 800_000}, {10_000, 2_000_000},
                {10_000, 30_000_000}};
        // OpenAI, mini class (GPT-4o mini, GPT-4.1 mini)
        long[][] mini = {{500, 200_000}, {5_000, 2_000_000}, {5_000, 4_000_000}, {10_000, 10_000_000},
                {30_000, 150_000_000}};
        for (int t = 0; t < 5; t++) {
            PRESETS.put("openai-tier-" + (t + 1), TierLimits.openAi(gpt4o[t][0], gpt4o[t][1]));
            PRESETS.put("openai-mini-tier-" + (t + 1), TierLimits.openAi(mini[t][0], mini[t][1]));
        }
        // Anthropic, Claude Opus 4.x / Sonnet 4.x: RPM, ITPM, OTPM per usage tier
        long[][] claude = {{50, 30_000, 8_000}, {1_000, 450_000, 90_000}, {2_000, 800_000, 160_000},
                {4_000, 2_000_000, 400_000}};
        // Anthropic, Claude Haiku 4.5
        long[][] haiku = {{50, 50_000, 10_000}, {1_000, 450_000, 90_000}, {2_000, 1_000_000, 200_000},
                {4_000, 4_000_000, 800_000}};
        for (int t = 0; t < 4; t++) {
            PRESETS.put("anthropic-tier-" + (t + 1), TierLimits.anthropic(claude[t][0], claude[t][1], claude[t][2]));
            PRESETS.put("anthropic-haiku-tier-" + (t + 1),
                    TierLimits.anthropic(haiku[t][0], haiku[t][1], haiku[t][2]));
        }
    }

    private TierPresets() {
    }

    public static Optional<TierLimits> get(String name) {
        return Optional.ofNullable(PRESETS.get(name));
    }

    public static Set<String> names() {
        return PRESETS.keySet();
    }
}
