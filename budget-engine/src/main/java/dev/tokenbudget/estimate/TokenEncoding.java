package dev.tokenbudget.estimate;

import dev.tokenbudget.provider.Family;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which tokenizer a model uses, by our own model-name map: jtokkit's built-in map predates
 * several current models (gpt-4.1, gpt-5, o3, o4-mini, gpt-oss all use o200k_base). Providers
 * without a published tokenizer (Anthropic, Gemini) and unknown models get {@link #NONE}: they are
 * estimated, with o200k_base as the proxy tokenizer and a family factor.
 */
public enum TokenEncoding {
    O200K_BASE,
    CL100K_BASE,
    NONE;

    private record Rule(String prefix, TokenEncoding encoding) {
    }

    // most specific prefixes first: "gpt-4o" and "gpt-4.1" before "gpt-4"
    private static final List<Rule> OPENAI = List.of(
            new Rule("gpt-4o", O200K_BASE), new Rule("chatgpt-4o", O200K_BASE), new Rule("gpt-4.1", O200K_BASE),
            new Rule("gpt-4.5", O200K_BASE), new Rule("gpt-5", O200K_BASE), new Rule("gpt-oss", O200K_BASE),
            new Rule("o1", O200K_BASE), new Rule("o3", O200K_BASE), new Rule("o4", O200K_BASE),
            new Rule("codex-", O200K_BASE), new Rule("computer-use", O200K_BASE),
            new Rule("gpt-4", CL100K_BASE), new Rule("gpt-3.5", CL100K_BASE),
            new Rule("text-embedding-3", CL100K_BASE), new Rule("text-embedding-ada-002", CL100K_BASE));

    /**
     * OpenAI model names already seen, up to {@link #KNOWN_MAX}: every request asks, and the
     * normalising below costs strings each time. Names are the client's, so the map stops growing at
     * the bound and a name beyond it is worked out on each request.
     */
    private static final Map<String, TokenEncoding> KNOWN = new ConcurrentHashMap<>();
    static final int KNOWN_MAX = 1024;

    /**
     * The encoding of {@code model} served by a provider of {@code family}. Fine-tuned names
     * ({@code ft:gpt-4.1-mini:org::id}) and provider prefixes ({@code openai/gpt-4.1}) are stripped.
     */
    public static TokenEncoding forModel(Family family, String model) {
        if (model == null || family != Family.OPENAI) {
            return NONE;
        }
        TokenEncoding known = KNOWN.get(model);
        if (known != null) {
            return known;
        }
        TokenEncoding e = openAi(model);
        if (KNOWN.size() < KNOWN_MAX) {
            KNOWN.put(model, e);
        }
        return e;
    }

    private static TokenEncoding openAi(String model) {
        String m = model.trim().toLowerCase(Locale.ROOT);
        if (m.startsWith("ft:")) {
            m = m.substring(3);
        }
        int slash = m.lastIndexOf('/');
        if (slash >= 0) {
            m = m.substring(slash + 1);
        }
        for (Rule r : OPENAI) {
            if (m.startsWith(r.prefix)) {
                return r.encoding;
            }
        }
        return NONE;
    }
}
