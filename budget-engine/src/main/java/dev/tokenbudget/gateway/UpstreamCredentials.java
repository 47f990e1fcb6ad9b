package dev.tokenbudget.gateway;

import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.provider.Provider;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The credential a request to a provider is sent with: a key the host gave ({@link
 * GatewayOptions#upstreamKeys()}), else the environment variable the config names for it (none for a
 * provider with a signer). A value read from the environment is kept once found, since a host's
 * environment lookup can cost microseconds per request (Spring's resolves property sources and
 * conversions); one not set yet is looked up again on every request, each answered 500 until it is.
 */
final class UpstreamCredentials {

    /**
     * @param value      the credential, or null when the gateway adds none (the upstream or a signer does)
     * @param missingEnv the environment variable that should hold it and is not set, or null
     */
    record Credential(String value, String missingEnv) {
        static final Credential NONE = new Credential(null, null);
    }

    private final EngineConfig config;
    private final GatewayOptions options;
    private final Map<Provider, Credential> known = new ConcurrentHashMap<>();

    UpstreamCredentials(EngineConfig config, GatewayOptions options) {
        this.config = config;
        this.options = options;
    }

    Credential of(Provider provider) {
        Credential c = known.get(provider);
        return c != null ? c : resolve(provider);
    }

    private Credential resolve(Provider provider) {
        String key = options.upstreamKeys().get(provider);
        if (key != null) {
            return remember(provider, new Credential(key, null));
        }
        String env = options.upstreamSigners().containsKey(provider) ? null
                : config.providerKeyEnv().get(provider.configName());
        if (env == null) {
            return remember(provider, Credential.NONE);
        }
        String value = options.environment().apply(env);
        if (value == null || value.isBlank()) {
            return new Credential(null, env);
        }
        return remember(provider, new Credential(value, null));
    }

    private Credential remember(Provider provider, Credential c) {
        known.put(provider, c);
        return c;
    }
}
