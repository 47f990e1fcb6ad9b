package dev.tokenbudget.provider;

import java.util.Locale;
import java.util.Optional;

/**
 * An upstream LLM provider: its wire-format {@link Family}, its name in the configuration's
 * {@code providers:} section, and how it expects its API key.
 */
public enum Provider {
    OPENAI("openai", Family.OPENAI, "authorization", true),
    AZURE_OPENAI("azure", Family.OPENAI, "api-key", false),
    OPENAI_COMPATIBLE("openai_compatible", Family.OPENAI, "authorization", true),
    ANTHROPIC("anthropic", Family.ANTHROPIC, "x-api-key", false),
    GEMINI("gemini", Family.GEMINI, "x-goog-api-key", false),
    /**
     * AWS Bedrock Runtime. Its upstream credential is a SigV4 signature (an {@code UpstreamSigner})
     * or a Bedrock API key, sent as {@code Authorization: Bearer}.
     */
    BEDROCK("bedrock", Family.BEDROCK, "authorization", true),
    /**
     * Google Vertex AI (Gemini and partner models such as Claude). Its upstream credential is an
     * OAuth access token, sent as {@code Authorization: Bearer}; errors are Google's.
     */
    VERTEX("vertex", Family.GEMINI, "authorization", true);

    private final String configName;
    private final Family family;
    private final String credentialHeader;
    private final boolean bearer;

    Provider(String configName, Family family, String credentialHeader, boolean bearer) {
        this.configName = configName;
        this.family = family;
        this.credentialHeader = credentialHeader;
        this.bearer = bearer;
    }

    /** The provider's key under {@code providers:} in the YAML config (and in {@code EngineConfig.providerKeyEnv()}). */
    public String configName() {
        return configName;
    }

    public Family family() {
        return family;
    }

    /** The request header (lower case) that carries this provider's API key. */
    public String credentialHeader() {
        return credentialHeader;
    }

    /** The value of {@link #credentialHeader()} for an API key ({@code Bearer <key>} where the provider wants it). */
    public String credentialValue(String apiKey) {
        return bearer ? "Bearer " + apiKey : apiKey;
    }

    /**
     * The provider named {@code name}: a config name ({@code openai}, {@code azure},
     * {@code openai_compatible}, {@code anthropic}, {@code gemini}, {@code bedrock}, {@code vertex}) or the enum constant, any case.
     */
    public static Optional<Provider> byName(String name) {
        if (name == null) {
            return Optional.empty();
        }
        String n = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (Provider p : values()) {
            if (p.configName.equals(n) || p.name().toLowerCase(Locale.ROOT).equals(n)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
