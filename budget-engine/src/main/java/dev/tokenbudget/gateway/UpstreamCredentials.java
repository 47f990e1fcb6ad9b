package dev.tokenbudget.gateway;

import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.provider.Provider;
import dev.tokenbudget.time.BudgetClock;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The credential a request to a provider is sent with: a key the host gave ({@link
 * GatewayOptions#upstreamKeys()}), else the environment variable the config names for it (none for a
 * provider with a signer). A host's environment lookup can cost microseconds per request (Spring's
 * resolves property sources and conversions), so a value read is kept for {@link #REREAD_NANOS}
 * and then read again: a key a secret store rotates is sent within a second of its change. One not
 * set is read again on every request, each answered 500 until it is.
 */
final class UpstreamCredentials {

    /** How long a value read from the environment is sent before it is read again: one second. */
    static final long REREAD_NANOS = 1_000_000_000L;

    /**
     * @param value      the credential, or null when the gateway adds none (the upstream or a signer does)
     * @param missingEnv the environment variable that should hold it and is not set, or null
     * @param readAt     when it was read from the environment ({@link BudgetClock#nanoTime()}), or
     *                   {@link Long#MIN_VALUE} when it does not come from there (it never changes)
     */
    record Credential(String value, String missingEnv, long readAt) {
        static final Credential NONE = new Credential(null, null, Long.MIN_VALUE);
    }

    private final EngineConfig config;
    private final GatewayOptions options;
    private final BudgetClock clock;
    private final Map<Provider, Credential> known = new ConcurrentHashMap<>();

    UpstreamCredentials(EngineConfig config, GatewayOptions options, BudgetClock clock) {
        this.config = config;
        this.options = options;
        this.clock = clock;
    }

    Credential of(Provider provider) {
        Credential c = known.get(provider);
        if (c != null && (c.readAt() == Long.MIN_VALUE || clock.nanoTime() - c.readAt() < REREAD_NANOS)) {
            return c;
        }
        return resolve(provider);
    }

    private Credential resolve(Provider provider) {
        String key = options.upstreamKeys().get(provider);
        if (key != null) {
            return remember(provider, new Credential(key, null, Long.MIN_VALUE));
        }
        String env = options.upstreamSigners().containsKey(provider) ? null
                : config.providerKeyEnv().get(provider.configName());
        if (env == null) {
            return remember(provider, Credential.NONE);
        }
        long now = clock.nanoTime();
        String value = options.environment().apply(env);
        if (value == null || value.isBlank()) {
            known.remove(provider);
            return new Credential(null, env, now);
        }
        return remember(provider, new Credential(value, null, now));
    }

    private Credential remember(Provider provider, Credential c) {
        known.put(provider, c);
        return c;
    }
}
