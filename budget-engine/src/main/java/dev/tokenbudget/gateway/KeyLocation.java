package dev.tokenbudget.gateway;

import dev.tokenbudget.provider.Provider;

import java.util.List;

/**
 * Where a request carries its virtual key: looked for in the provider's own header first, then the
 * others; Gemini's SDKs may also send it as {@code ?key=}.
 *
 * @param secret       the key as sent
 * @param header       the header it came in, or null for the {@code key} query parameter
 * @param upstreamPath the path to send upstream: the received one minus any {@code key=} parameter
 */
record KeyLocation(String secret, String header, String upstreamPath) {

    // per provider, its own header first; constant lists, since this runs on every request
    private static final List<String> ANTHROPIC = List.of("x-api-key", "authorization", "api-key", "x-goog-api-key");
    private static final List<String> AZURE = List.of("api-key", "authorization", "x-api-key", "x-goog-api-key");
    private static final List<String> GEMINI = List.of("x-goog-api-key", "authorization", "x-api-key", "api-key");
    private static final List<String> OTHERS = List.of("authorization", "x-api-key", "api-key", "x-goog-api-key");

    /** The key of {@code req} on {@code route}, or null when it sends none. */
    static KeyLocation find(RequestView req, Route route, String path) {
        List<String> order = switch (route.provider()) {
            case ANTHROPIC -> ANTHROPIC;
            case AZURE_OPENAI -> AZURE;
            case GEMINI -> GEMINI;
            default -> OTHERS;
        };
        QueryKey q = QueryKey.of(path);
        for (String h : order) {
            String v = req.header(h);
            if (v == null || v.isBlank()) {
                continue;
            }
            v = v.trim();
            if (h.equals("authorization")) {
                if (v.regionMatches(true, 0, "Bearer ", 0, 7)) {
                    v = v.substring(7).trim();
                } else {
                    continue; // Basic or other schemes carry no virtual key
                }
            }
            if (!v.isEmpty()) {
                return new KeyLocation(v, h, q.pathWithout());
            }
        }
        if (q.value() != null) {
            return new KeyLocation(q.value(), null, q.pathWithout());
        }
        return null;
    }

    /** Where the key was found, for a 401's message. */
    String where() {
        return header == null ? "the key query parameter" : "the " + header + " header";
    }

    /** Where a client of {@code p} should send its key, for a 401's message. */
    static String hint(Provider p) {
        return switch (p) {
            case ANTHROPIC -> "the x-api-key header";
            case AZURE_OPENAI -> "the api-key header";
            case GEMINI -> "the x-goog-api-key header";
            case BEDROCK, VERTEX -> "Authorization: Bearer <key> (where the SDKs send a Bedrock API key or a "
                    + "Vertex access token)";
            default -> "Authorization: Bearer <key>";
        };
    }
}
