package dev.tokenbudget.gateway;

import dev.tokenbudget.estimate.InputEstimator;
import dev.tokenbudget.provider.Provider;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * How a {@link BudgetGateway} treats requests, beyond what the engine's config says. Immutable;
 * build with {@link #custom()} or take {@link #ofDefaults()}.
 */
public final class GatewayOptions {

    /** Default bound of a request body: 10 MiB (images inline as base64 make bodies large). */
    public static final long DEFAULT_MAX_BODY_BYTES = 10L << 20;

    static final String MAX_BODY_MUST_BE_POSITIVE = "maxBodyBytes must be >= 1, was ";

    private final long maxBodyBytes;
    private final boolean requestStreamUsage;
    private final boolean forwardUnknownPosts;
    private final Map<String, String> prompts;
    private final Function<String, String> environment;
    private final Map<Provider, String> upstreamKeys;
    private final Map<Provider, UpstreamSigner> upstreamSigners;
    private final InputEstimator estimator;
    private final boolean rewritesBodies;

    private GatewayOptions(Builder b) {
        this.maxBodyBytes = b.maxBodyBytes;
        this.requestStreamUsage = b.requestStreamUsage;
        this.forwardUnknownPosts = b.forwardUnknownPosts;
        this.prompts = Map.copyOf(b.prompts);
        this.environment = b.environment;
        this.upstreamKeys = Map.copyOf(b.upstreamKeys);
        this.upstreamSigners = Map.copyOf(b.upstreamSigners);
        this.estimator = b.estimator;
        this.rewritesBodies = b.rewritesBodies;
    }

    public static GatewayOptions ofDefaults() {
        return custom().build();
    }

    public static Builder custom() {
        return new Builder();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxBodyBytes = maxBodyBytes;
        b.requestStreamUsage = requestStreamUsage;
        b.forwardUnknownPosts = forwardUnknownPosts;
        b.prompts.putAll(prompts);
        b.environment = environment;
        b.upstreamKeys.putAll(upstreamKeys);
        b.upstreamSigners.putAll(upstreamSigners);
        b.estimator = estimator;
        b.rewritesBodies = rewritesBodies;
        return b;
    }

    /** Largest request body accepted; larger ones get 413. */
    public long maxBodyBytes() {
        return maxBodyBytes;
    }

    /** Whether an OpenAI-family chat stream without usage is rewritten to ask for it (default true). */
    public boolean requestStreamUsage() {
        return requestStreamUsage;
    }

    /**
     * Whether a POST to a path tokenbudget does not know is forwarded unmetered (default false: it
     * is refused with 404, since it might spend tokens no budget would see).
     */
    public boolean forwardUnknownPosts() {
        return forwardUnknownPosts;
    }

    /** Registered system prompts: id to exact text. A degrade directive swaps one id's text for its variant's. */
    public Map<String, String> prompts() {
        return prompts;
    }

    /** Reads environment variables (the upstream keys named in {@code providers:}); {@code System::getenv} by default. */
    public Function<String, String> environment() {
        return environment;
    }

    /** Upstream keys given directly (e.g. from a gateway's own secret store); they win over the environment. */
    public Map<Provider, String> upstreamKeys() {
        return upstreamKeys;
    }

    /** Signers of upstream requests (Bedrock SigV4, Vertex access tokens); a provider's signer replaces its key. */
    public Map<Provider, UpstreamSigner> upstreamSigners() {
        return upstreamSigners;
    }

    /** The input estimator, or null for the default {@code TokenizerEstimator.shared()}. */
    public InputEstimator estimator() {
        return estimator;
    }

    /**
     * Whether the host forwards {@link Forward#body()} (default true): the output-ceiling clamp of a
     * degraded request then holds, so the engine reserves (and admits at) the smaller ceiling
     * instead of the one asked for. A host that cannot change a body (APISIX's plugin with
     * {@code tokenbudget.apisix.body-rewrite=false}) says false:
     * requests are then reserved, and refused, at the ceiling they ask for.
     */
    public boolean rewritesBodies() {
        return rewritesBodies;
    }

    /** Builder of {@link GatewayOptions}. */
    public static final class Builder {
        private long maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
        private boolean requestStreamUsage = true;
        private boolean forwardUnknownPosts;
        private final Map<String, String> prompts = new LinkedHashMap<>();
        private Function<String, String> environment = System::getenv;
        private final Map<Provider, String> upstreamKeys = new EnumMap<>(Provider.class);
        private final Map<Provider, UpstreamSigner> upstreamSigners = new EnumMap<>(Provider.class);
        private InputEstimator estimator;
        private boolean rewritesBodies = true;

        private Builder() {
        }

        public Builder maxBodyBytes(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException(MAX_BODY_MUST_BE_POSITIVE + bytes);
            }
            this.maxBodyBytes = bytes;
            return this;
        }

        public Builder requestStreamUsage(boolean on) {
            this.requestStreamUsage = on;
            return this;
        }

        public Builder forwardUnknownPosts(boolean on) {
            this.forwardUnknownPosts = on;
            return this;
        }

        /** Registers a system prompt's exact text under an id (the ids degrade specs' {@code prompt_variants} use). */
        public Builder prompt(String id, String text) {
            prompts.put(Objects.requireNonNull(id, "id"), Objects.requireNonNull(text, "text"));
            return this;
        }

        public Builder prompts(Map<String, String> idToText) {
            idToText.forEach(this::prompt);
            return this;
        }

        public Builder environment(Function<String, String> env) {
            this.environment = Objects.requireNonNull(env, "env");
            return this;
        }

        public Builder upstreamKey(Provider provider, String apiKey) {
            upstreamKeys.put(Objects.requireNonNull(provider, "provider"), Objects.requireNonNull(apiKey, "apiKey"));
            return this;
        }

        /** Signs every request to {@code provider} ({@link UpstreamSigner}); its {@code api_key_env} is then not read. */
        public Builder upstreamSigner(Provider provider, UpstreamSigner signer) {
            upstreamSigners.put(Objects.requireNonNull(provider, "provider"), Objects.requireNonNull(signer, "signer"));
            return this;
        }

        public Builder estimator(InputEstimator e) {
            this.estimator = e;
            return this;
        }

        /** False for a host that cannot forward a rewritten body ({@link GatewayOptions#rewritesBodies()}). */
        public Builder rewritesBodies(boolean on) {
            this.rewritesBodies = on;
            return this;
        }

        public GatewayOptions build() {
            return new GatewayOptions(this);
        }
    }
}
