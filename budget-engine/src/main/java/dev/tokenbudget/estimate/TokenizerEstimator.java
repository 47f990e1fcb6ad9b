package dev.tokenbudget.estimate;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.PromptText;

/**
 * The default input estimate: a real tokenizer (jtokkit's o200k_base / cl100k_base, chosen by
 * {@link TokenEncoding}) for prompts up to {@link #exactChars()} characters, and beyond that a
 * linear estimate over character classes calibrated against those tokenizers, raised by a margin
 * so that it errs high. Exact counting costs 0.03-0.2 us per character; the calibrated
 * estimate 3-5 ns per character, so any prompt costs microseconds
 * (docs/usage.md has the measured error and cost).
 *
 * <p>Anthropic and Gemini publish no tokenizer: their prompts are counted with o200k_base as a
 * proxy and multiplied by a family factor; settlement corrects the reservation to what the
 * provider reports. Encodings load when the estimator is created (at start-up), never on a request.
 * Thread-safe.
 */
public final class TokenizerEstimator implements InputEstimator {

    /**
     * Prompts up to this many characters are counted exactly. Exact o200k_base counting measured
     * about 0.1-0.2 us per character on the project's 2-core machines, so this bounds it near 25-50 us.
     */
    public static final int DEFAULT_EXACT_CHARS = 256;
    /** Factor applied to the calibrated estimate so that it errs high (docs/usage.md). */
    public static final double DEFAULT_MARGIN = 1.10;

    /**
     * Calibrated weights per {@link TextFeatures} feature (words, letters, digits, punctuation,
     * newlines, spaces, 2-byte, 3-byte, astral characters), fitted by EstimateCalibration
     * (docs/usage.md). The corpus held almost no characters beyond U+FFFF, so their weight is set by
     * hand to 2 (an emoji is one to three tokens).
     */
    static final double[] O200K_WEIGHTS = {1.201, 0.0288, 0.744, 0.4886, 0.4679, 0.0233, 0.3603, 0.788, 2.0};
    static final double[] CL100K_WEIGHTS = {1.2088, 0.0309, 0.7662, 0.4867, 0.3952, 0.0176, 0.5819, 1.0954, 2.0};

    /** Proxy factors for families without a public tokenizer, relative to o200k_base counts. */
    static final double ANTHROPIC_FACTOR = 1.20;
    static final double GEMINI_FACTOR = 1.05;
    static final double UNKNOWN_MODEL_FACTOR = 1.10;

    private final Encoding o200k;
    private final Encoding cl100k;
    private final int exactChars;
    private final double margin;

    private TokenizerEstimator(int exactChars, double margin) {
        if (exactChars < 0) {
            throw new IllegalArgumentException("exactChars must be >= 0, was " + exactChars);
        }
        if (!(margin >= 1.0) || Double.isInfinite(margin)) {
            throw new IllegalArgumentException("margin must be >= 1.0 (the estimate errs high), was " + margin);
        }
        EncodingRegistry registry = Encodings.newDefaultEncodingRegistry();
        this.o200k = registry.getEncoding(EncodingType.O200K_BASE);
        this.cl100k = registry.getEncoding(EncodingType.CL100K_BASE);
        this.exactChars = exactChars;
        this.margin = margin;
        o200k.countTokensOrdinary("warm up"); // first use initialises lazily held tables
        cl100k.countTokensOrdinary("warm up");
    }

    private static final class Shared {
        static final TokenizerEstimator INSTANCE = create();
    }

    /**
     * One estimator with the defaults per JVM, created on first use (loading the encodings takes
     * a few hundred milliseconds: call it at start-up).
     */
    public static TokenizerEstimator shared() {
        return Shared.INSTANCE;
    }

    /** An estimator with the default exact-count bound and margin; loads both encodings now. */
    public static TokenizerEstimator create() {
        return new TokenizerEstimator(DEFAULT_EXACT_CHARS, DEFAULT_MARGIN);
    }

    /**
     * An estimator counting exactly up to {@code exactChars} characters (0: always estimate) and
     * raising the calibrated estimate by {@code margin} (>= 1).
     */
    public static TokenizerEstimator create(int exactChars, double margin) {
        return new TokenizerEstimator(exactChars, margin);
    }

    public int exactChars() {
        return exactChars;
    }

    public double margin() {
        return margin;
    }

    @Override
    public long inputTokens(Family family, String model, PromptText prompt) {
        return (long) Math.ceil(textTokens(family, model, prompt.text())) + InputEstimator.overhead(prompt);
    }

    /** Tokens of the text alone. */
    double textTokens(Family family, String model, String text) {
        if (text.isEmpty()) {
            return 0;
        }
        TokenEncoding te = TokenEncoding.forModel(family, model);
        Encoding enc = te == TokenEncoding.CL100K_BASE ? cl100k : o200k;
        double[] weights = te == TokenEncoding.CL100K_BASE ? CL100K_WEIGHTS : O200K_WEIGHTS;
        double tokens = text.length() <= exactChars ? enc.countTokensOrdinary(text)
                : margin * TextFeatures.estimate(TextFeatures.of(text), weights);
        if (te != TokenEncoding.NONE) {
            return tokens;
        }
        return tokens * switch (family) {
            case ANTHROPIC -> ANTHROPIC_FACTOR;
            case GEMINI -> GEMINI_FACTOR;
            case OPENAI -> UNKNOWN_MODEL_FACTOR;
            // Bedrock serves many families; its Claude ids (anthropic.claude-..., us.anthropic.claude-...) take Anthropic's
            case BEDROCK -> model != null && model.contains("claude") ? ANTHROPIC_FACTOR : UNKNOWN_MODEL_FACTOR;
        };
    }
}
