package dev.tokenbudget.fake;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A request exactly as the fake provider received it.
 *
 * @param method  HTTP method
 * @param path    request path without the query
 * @param query   raw query string, or null
 * @param headers header names in lower case to their values, in arrival order
 * @param body    the raw body bytes
 * @param rawPath the path as it came on the wire, still URL-encoded (what a SigV4 signature covers)
 */
public record RecordedRequest(String method, String path, String query, Map<String, List<String>> headers,
                              byte[] body, String rawPath) {

    public RecordedRequest {
        headers = Map.copyOf(headers);
        body = body.clone();
    }

    /** The first value of a header (name case-insensitive), or null. */
    public String header(String name) {
        List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    @Override
    public byte[] body() {
        return body.clone();
    }

    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
