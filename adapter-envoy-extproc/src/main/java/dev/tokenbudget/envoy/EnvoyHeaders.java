package dev.tokenbudget.envoy;

import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;

import java.util.List;

/**
 * The headers of one Envoy message, looked up where Envoy sent them: no map is built. A stream
 * asks for a handful of names (credential, pseudo-headers, content type and length, directives)
 * out of a few dozen headers, so a scan of the message's list is cheaper than copying it into a
 * map, and a value is decoded from {@code raw_value} once, when first asked for. Names compare
 * case-insensitively (Envoy sends them in lower case); the first of a repeated name wins, as
 * {@link HeaderMaps#first} does. Not thread-safe: a stream's callbacks run one at a time.
 */
final class EnvoyHeaders {

    private final List<HeaderValue> headers;
    /** Decoded values, by position; filled as they are asked for. */
    private String[] values;

    EnvoyHeaders(HeaderMap map) {
        this.headers = map.getHeadersList();
    }

    /** The first value of {@code name}, or null when Envoy did not send it. */
    String first(String name) {
        int i = indexOf(name);
        if (i < 0) {
            return null;
        }
        if (values == null) {
            values = new String[headers.size()];
        }
        String v = values[i];
        if (v == null) {
            HeaderValue h = headers.get(i);
            // Envoy 1.27+ sends raw_value; older Envoys sent value
            v = h.getRawValue().isEmpty() ? h.getValue() : h.getRawValue().toStringUtf8();
            values[i] = v;
        }
        return v;
    }

    /** The {@code :status} of response headers; a missing or malformed one breaks the protocol. */
    int status() {
        String s = first(":status");
        try {
            int v = s == null ? -1 : Integer.parseInt(s.trim());
            if (v >= 100 && v <= 999) {
                return v;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ProtocolViolation.invalid("response_headers without a valid :status header (was " + s + ")");
    }

    /** Whether Envoy sent {@code name} at all (with any value, empty included). */
    boolean has(String name) {
        return indexOf(name) >= 0;
    }

    private int indexOf(String name) {
        for (int i = 0, n = headers.size(); i < n; i++) {
            if (headers.get(i).getKey().equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }
}
