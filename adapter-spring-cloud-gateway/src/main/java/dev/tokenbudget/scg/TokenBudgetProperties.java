package dev.tokenbudget.scg;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The adapter's settings under {@code tokenbudget.*}. Budgets, keys and the store live in the
 * engine YAML that {@link #getConfig() tokenbudget.config} points at; these properties say how the
 * gateway applies it.
 */
@ConfigurationProperties("tokenbudget")
public class TokenBudgetProperties {

    /** Whether the engine and the TokenBudget filter are set up. */
    private boolean enabled = true;

    /**
     * Location of the engine YAML (budgets, keys, store): a file path, or a {@code file:} or
     * {@code classpath:} URL. Required when a route uses the TokenBudget filter.
     */
    private String config;

    /** Largest request body accepted; a larger one is answered 413 without being read further. */
    private DataSize maxBodySize = DataSize.ofMegabytes(10);

    /**
     * Provider of routes whose filter names none: {@code auto} (detected from the path), or one of
     * {@code openai}, {@code azure}, {@code openai_compatible}, {@code anthropic}, {@code gemini}.
     */
    private String defaultProvider = "auto";

    /** Per-route settings, by route id; a filter argument wins over these. */
    private Map<String, RouteSettings> routes = new LinkedHashMap<>();

    /**
     * Whether an OpenAI chat stream that did not ask for usage is rewritten to ask for it
     * ({@code stream_options.include_usage}), so that it can be settled exactly. The client then
     * sees one extra chunk with empty choices before {@code [DONE]}.
     */
    private boolean requestStreamUsage = true;

    /**
     * Whether a POST to a path tokenbudget does not know is forwarded unmetered; by default it is
     * refused with 404, since it might spend tokens no budget would see.
     */
    private boolean forwardUnknownPosts = false;

    /**
     * Whether a degraded request goes through route matching again, carrying the
     * {@code x-tokenbudget-route} header, so that a route with a {@code Header} predicate on it
     * (ordered before the normal route) can send it to another upstream.
     */
    private boolean redispatchOnDegrade = true;

    /** How often reservations whose lease expired unsettled are charged. */
    private Duration leaseSweepInterval = Duration.ofSeconds(30);

    /** The admin API and burn-down dashboard, served beside the gateway on their own port. */
    private final Admin admin = new Admin();

    /** Registered system prompts, id to exact text, for the {@code prompt_variants} of degrade specs. */
    private Map<String, String> prompts = new LinkedHashMap<>();

    /**
     * AWS region to SigV4-sign Bedrock requests for, with the AWS SDK's default credential chain
     * (needs dev.tokenbudget:cloud-auth); replaces providers.bedrock.api_key_env. Unset: no signing.
     */
    private String bedrockSigningRegion;

    /**
     * Authorise Vertex AI requests with Google's Application Default Credentials, refreshed before
     * expiry (needs dev.tokenbudget:cloud-auth); replaces providers.vertex.api_key_env.
     */
    private boolean vertexApplicationDefaultCredentials = false;

    /**
     * A Google credentials file (service-account key or external-account configuration, what
     * GOOGLE_APPLICATION_CREDENTIALS would name) to authorise Vertex AI requests with, refreshed
     * before expiry (needs dev.tokenbudget:cloud-auth); replaces providers.vertex.api_key_env and
     * takes precedence over vertex-application-default-credentials.
     */
    private String vertexCredentialsFile;

    /** Settings of one route. */
    public static class RouteSettings {

        /** The route's provider: {@code auto}, {@code openai}, {@code azure}, {@code openai_compatible}, {@code anthropic}, {@code gemini}. */
        private String provider;

        /** Overrides {@code tokenbudget.redispatch-on-degrade} for this route. */
        private Boolean redispatchOnDegrade;

        public String getProvider() {
            return provider;
        }

        public void setProvider(String provider) {
            this.provider = provider;
        }

        public Boolean getRedispatchOnDegrade() {
            return redispatchOnDegrade;
        }

        public void setRedispatchOnDegrade(Boolean redispatchOnDegrade) {
            this.redispatchOnDegrade = redispatchOnDegrade;
        }
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public String getConfig() {
        return config;
    }

    public void setConfig(String config) {
        this.config = config;
    }

    public DataSize getMaxBodySize() {
        return maxBodySize;
    }

    public void setMaxBodySize(DataSize maxBodySize) {
        this.maxBodySize = maxBodySize;
    }

    public String getDefaultProvider() {
        return defaultProvider;
    }

    public void setDefaultProvider(String defaultProvider) {
        this.defaultProvider = defaultProvider;
    }

    public Map<String, RouteSettings> getRoutes() {
        return routes;
    }

    public void setRoutes(Map<String, RouteSettings> routes) {
        this.routes = routes;
    }

    public boolean isRequestStreamUsage() {
        return requestStreamUsage;
    }

    public void setRequestStreamUsage(boolean requestStreamUsage) {
        this.requestStreamUsage = requestStreamUsage;
    }

    public boolean isForwardUnknownPosts() {
        return forwardUnknownPosts;
    }

    public void setForwardUnknownPosts(boolean forwardUnknownPosts) {
        this.forwardUnknownPosts = forwardUnknownPosts;
    }

    public boolean isRedispatchOnDegrade() {
        return redispatchOnDegrade;
    }

    public void setRedispatchOnDegrade(boolean redispatchOnDegrade) {
        this.redispatchOnDegrade = redispatchOnDegrade;
    }

    public Duration getLeaseSweepInterval() {
        return leaseSweepInterval;
    }

    public void setLeaseSweepInterval(Duration leaseSweepInterval) {
        this.leaseSweepInterval = leaseSweepInterval;
    }

    public Map<String, String> getPrompts() {
        return prompts;
    }

    public void setPrompts(Map<String, String> prompts) {
        this.prompts = prompts;
    }

    public String getBedrockSigningRegion() {
        return bedrockSigningRegion;
    }

    public void setBedrockSigningRegion(String bedrockSigningRegion) {
        this.bedrockSigningRegion = bedrockSigningRegion;
    }

    public String getVertexCredentialsFile() {
        return vertexCredentialsFile;
    }

    public void setVertexCredentialsFile(String file) {
        this.vertexCredentialsFile = file;
    }

    public boolean isVertexApplicationDefaultCredentials() {
        return vertexApplicationDefaultCredentials;
    }

    public void setVertexApplicationDefaultCredentials(boolean on) {
        this.vertexApplicationDefaultCredentials = on;
    }

    public Admin getAdmin() {
        return admin;
    }

    /** {@code tokenbudget.admin.*}: the admin API and dashboard (docs/admin-api.md). */
    public static class Admin {

        /** Whether the admin API and dashboard are served. */
        private boolean enabled = false;

        /** Port of the admin API and dashboard. */
        private int port = 8081;

        /**
         * Address the admin API listens on. Loopback by default: anyone who can reach it and holds
         * the token can change limits.
         */
        private String bindAddress = "127.0.0.1";

        /**
         * Bearer token the admin API demands. When unset, {@code TOKENBUDGET_ADMIN_TOKEN} from the
         * environment, else one generated at start and written to the log.
         */
        private String token;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public int getPort() {
            return port;
        }

        public void setPort(int port) {
            this.port = port;
        }

        public String getBindAddress() {
            return bindAddress;
        }

        public void setBindAddress(String bindAddress) {
            this.bindAddress = bindAddress;
        }

        public String getToken() {
            return token;
        }

        public void setToken(String token) {
            this.token = token;
        }
    }
}
