package dev.tokenbudget.gateway;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * The {@code key} query parameter (Gemini's way to send an API key) and the path without it, so a
 * virtual key sent there never reaches the provider.
 *
 * @param value       the decoded key, or null
 * @param pathWithout the path with every {@code key=} parameter removed (its name compared decoded)
 */
record QueryKey(String value, String pathWithout) {

    static QueryKey of(String path) {
        int q = path.indexOf('?');
        if (q < 0) {
            return new QueryKey(null, path);
        }
        String value = null;
        StringBuilder kept = new StringBuilder();
        for (String param : path.substring(q + 1).split("&", -1)) {
            int eq = param.indexOf('=');
            // compared decoded: upstreams decode names, so k%65y=... is a key parameter too
            if (eq >= 0 && decode(param.substring(0, eq)).equals("key")) {
                if (value == null) {
                    value = decode(param.substring(eq + 1));
                }
            } else if (!param.isEmpty()) {
                kept.append(kept.isEmpty() ? "" : "&").append(param);
            }
        }
        if (value == null) {
            return new QueryKey(null, path);
        }
        String base = path.substring(0, q);
        return new QueryKey(value, kept.isEmpty() ? base : base + "?" + kept);
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }
}
