package dev.tokenbudget.gateway;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An answer the gateway gives the client itself, without calling the provider: 401 for an unknown
 * key, 400 / 413 for a bad or oversized body, 429 / 403 / 503 for a rejected request. The body is
 * JSON shaped like the provider's own errors, so SDK clients read it.
 *
 * @param status  HTTP status
 * @param headers response headers, {@code content-type} included
 * @param body    the error body (UTF-8 JSON)
 */
public record Reply(int status, Map<String, String> headers, byte[] body) implements Identification, Admission {

    public Reply {
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    /** The body as text, for logs and tests. */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
