package dev.tokenbudget.alert;

import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;

/** Claims in process: a map of key to expiry, swept of expired keys as it grows. Thread-safe. */
public final class InMemoryAlertClaims implements AlertClaims {

    private static final int SWEEP_EVERY = 1024;

    private final ConcurrentHashMap<String, Instant> claims = new ConcurrentHashMap<>();

    @Override
    public boolean claim(String key, Instant now, Instant expiresAt) {
        boolean[] won = {false};
        claims.compute(key, (k, old) -> {
            if (old == null || !old.isAfter(now)) {
                won[0] = true;
                return expiresAt;
            }
            return old;
        });
        if (won[0] && claims.size() % SWEEP_EVERY == 0) {
            claims.values().removeIf(e -> !e.isAfter(now));
        }
        return won[0];
    }

    /** Claims held (expired ones may linger until the next sweep). */
    public int size() {
        return claims.size();
    }
}
