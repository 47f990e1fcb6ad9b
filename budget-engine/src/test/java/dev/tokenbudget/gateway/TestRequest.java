package dev.tokenbudget.gateway;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A {@link RequestView} over a plain map, as an adapter would build one from its gateway's request;
 * adapters' tests use it to drive the gateway layer directly.
 */
public record TestRequest(String method, String path, Map<String, String> headers) implements RequestView {

    /** A POST to {@code path} with these headers (name, value, ...; names matched case-insensitively). */
    public static TestRequest post(String path, String... headerPairs) {
        Map<String, String> h = new LinkedHashMap<>();
        for (int i = 0; i < headerPairs.length; i += 2) {
            h.put(headerPairs[i].toLowerCase(Locale.ROOT), headerPairs[i + 1]);
        }
        return new TestRequest("POST", path, h);
    }

    @Override
    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }
}
