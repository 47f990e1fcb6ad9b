package dev.tokenbudget.price;

import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.config.ModelPrice;
import dev.tokenbudget.usage.TokenUsage;

import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Dollars per million tokens by model: the config's {@code prices:} over a small dated default
 * table. Dollars are a derived view; a price change never moves a budget. A model without an
 * exact entry takes the entry of its longest matching prefix that ends at a name boundary, so
 * {@code gpt-4.1-2025-04-14} is priced as {@code gpt-4.1} but not as {@code gpt-4}. Immutable.
 */
public final class PriceTable {

    /** When the default prices were taken from the providers' public price pages. */
    public static final LocalDate DEFAULTS_AS_OF = LocalDate.of(2025, 11, 1);

    private static final Pattern BOUNDARY = Pattern.compile("[-:@/._]");

    /** What follows a model's name in a dated or pinned snapshot of it: -2025-04-14, -20251001, -001, -latest. */
    private static final Pattern SNAPSHOT = Pattern.compile("[-@](\\d{4}-\\d{2}-\\d{2}|\\d{8}|\\d{3}|latest)");

    /**
     * A Bedrock model id or inference profile of an Anthropic model: an optional geography prefix
     * ({@code us.}, {@code eu.}, {@code apac.}, {@code global.}...), {@code anthropic.}, the model's
     * Anthropic name, and a version suffix ({@code -v1:0}). Bedrock bills these at Anthropic's list
     * prices, so they are priced as the Anthropic name (group 1).
     */
    private static final Pattern BEDROCK_ANTHROPIC = Pattern.compile(
            "(?:[a-z]{2,6}(?:-[a-z]+)?\\.)?anthropic\\.(claude-.+?)(?:-v\\d+(?::\\d+)?)?");

    private static final Map<String, ModelPrice> DEFAULTS = defaults();

    private final Map<String, ModelPrice> prices;

    private PriceTable(Map<String, ModelPrice> prices) {
        this.prices = Map.copyOf(prices);
    }

    private static Map<String, ModelPrice> defaults() {
        Map<String, ModelPrice> m = new LinkedHashMap<>();
        // OpenAI: input, output, cached input
        m.put("gpt-5", new ModelPrice(1.25, 10.00, 0.125));
        m.put("gpt-5-mini", new ModelPrice(0.25, 2.00, 0.025));
        m.put("gpt-5-nano", new ModelPrice(0.05, 0.40, 0.005));
        m.put("gpt-4.1", new ModelPrice(2.00, 8.00, 0.50));
        m.put("gpt-4.1-mini", new ModelPrice(0.40, 1.60, 0.10));
        m.put("gpt-4.1-nano", new ModelPrice(0.10, 0.40, 0.025));
        m.put("gpt-4o", new ModelPrice(2.50, 10.00, 1.25));
        m.put("gpt-4o-mini", new ModelPrice(0.15, 0.60, 0.075));
        m.put("o3", new ModelPrice(2.00, 8.00, 0.50));
        m.put("o4-mini", new ModelPrice(1.10, 4.40, 0.275));
        m.put("text-embedding-3-small", new ModelPrice(0.02, 0, 0.02));
        m.put("text-embedding-3-large", new ModelPrice(0.13, 0, 0.13));
        // Anthropic: cache reads at a tenth of input; cache writes are charged at the input rate here
        // claude-opus-4-7 / -4-6 added 2026-11-28 at Anthropic's list price (unchanged since Opus 4.5)
        m.put("claude-opus-4-7", new ModelPrice(5.00, 25.00, 0.50));
        m.put("claude-opus-4-6", new ModelPrice(5.00, 25.00, 0.50));
        m.put("claude-opus-4-5", new ModelPrice(5.00, 25.00, 0.50));
        m.put("claude-opus-4-1", new ModelPrice(15.00, 75.00, 1.50));
        m.put("claude-sonnet-4-5", new ModelPrice(3.00, 15.00, 0.30));
        m.put("claude-sonnet-4", new ModelPrice(3.00, 15.00, 0.30));
        m.put("claude-haiku-4-5", new ModelPrice(1.00, 5.00, 0.10));
        m.put("claude-3-5-haiku", new ModelPrice(0.80, 4.00, 0.08));
        // Google Gemini (prompts up to 200k tokens)
        m.put("gemini-2.5-pro", new ModelPrice(1.25, 10.00, 0.125));
        m.put("gemini-2.5-flash", new ModelPrice(0.30, 2.50, 0.03));
        m.put("gemini-2.5-flash-lite", new ModelPrice(0.10, 0.40, 0.01));
        return Map.copyOf(m);
    }

    /** The default table alone. */
    public static PriceTable ofDefaults() {
        return new PriceTable(DEFAULTS);
    }

    /** The config's prices over the defaults (a config entry replaces the default of the same model). */
    public static PriceTable of(EngineConfig config) {
        return of(config.prices());
    }

    public static PriceTable of(Map<String, ModelPrice> overrides) {
        Map<String, ModelPrice> m = new LinkedHashMap<>(DEFAULTS);
        overrides.forEach((k, v) -> m.put(k.toLowerCase(Locale.ROOT), v));
        return new PriceTable(m);
    }

    /** Every entry, model to price. */
    public Map<String, ModelPrice> entries() {
        return prices;
    }

    /** The price of {@code model}: its own entry, else its longest prefix entry at a name boundary. */
    public Optional<ModelPrice> forModel(String model) {
        if (model == null || model.isBlank()) {
            return Optional.empty();
        }
        String m = name(model);
        ModelPrice exact = prices.get(m);
        if (exact != null) {
            return Optional.of(exact);
        }
        String best = null;
        for (String k : prices.keySet()) {
            if (m.startsWith(k) && BOUNDARY.matcher(m.substring(k.length(), k.length() + 1)).matches()
                    && (best == null || k.length() > best.length())) {
                best = k;
            }
        }
        return best == null ? Optional.empty() : Optional.of(prices.get(best));
    }

    /**
     * Whether {@code model} is a model of this table: an entry, an entry behind a router prefix
     * ({@code openai/gpt-4.1}), or a dated or pinned snapshot of an entry ({@code gpt-4.1-2025-04-14},
     * {@code claude-haiku-4-5-20251001}, {@code gemini-2.5-flash-001}). Stricter than
     * {@link #forModel}, which prices any name below an entry ({@code gpt-4o-typo} as {@code gpt-4o}):
     * this is the check for a name the gateway itself will send, such as a degrade target.
     */
    public boolean knows(String model) {
        if (model == null || model.isBlank()) {
            return false;
        }
        String m = name(model);
        if (prices.containsKey(m)) {
            return true;
        }
        for (String k : prices.keySet()) {
            if (m.startsWith(k) && SNAPSHOT.matcher(m.substring(k.length())).matches()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The name to look up: lower case, without a router prefix the table does not list itself, and
     * a Bedrock id of an Anthropic model ({@code us.anthropic.claude-haiku-4-5-20251001-v1:0}, also
     * inside an inference-profile ARN) as its Anthropic name ({@code claude-haiku-4-5-20251001}).
     */
    private String name(String model) {
        String m = model.trim().toLowerCase(Locale.ROOT);
        int slash = m.lastIndexOf('/');
        if (slash >= 0 && !prices.containsKey(m)) {
            m = m.substring(slash + 1); // "openai/gpt-4.1" on a compatible router, an ARN's resource id
        }
        if (!prices.containsKey(m) && m.contains("anthropic.")) {
            java.util.regex.Matcher b = BEDROCK_ANTHROPIC.matcher(m);
            if (b.matches()) {
                m = b.group(1);
            }
        }
        return m;
    }

    /** Dollars for {@code usage} on {@code model}, or empty when the model has no price. */
    public Optional<Double> cost(String model, TokenUsage usage) {
        return forModel(model).map(p -> p.cost(usage.inputTokens(), usage.outputTokens(),
                usage.cachedInputTokens()));
    }
}
