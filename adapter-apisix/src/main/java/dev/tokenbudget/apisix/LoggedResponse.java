package dev.tokenbudget.apisix;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One request as APISIX's {@code http-logger} reports it, reduced to what settling needs. The
 * entry is APISIX's default log format ({@code apisix/utils/log-util.lua}, {@code get_full_log}):
 * {@code request.headers} as nginx's {@code ngx.req.get_headers()} (lower-case names; a header
 * sent several times is a list), {@code response.status} ({@code ngx.status}),
 * {@code response.headers} ({@code ngx.resp.get_headers()}) and, with {@code include_resp_body},
 * {@code response.body}: the body the client got, decompressed when it was gzip
 * ({@code collect_body}). A {@code log_format} replaces all of this with its own fields and drops
 * the body, so routes that settle from the logger must not set one.
 *
 * @param requestId   the id the pre-request filter put in {@link TokenBudgetPlugin#REQUEST_ID_HEADER}, or null
 * @param status      the response status the client got, or -1 when the entry has none
 * @param contentType the response's {@code Content-Type}, or null
 * @param body        the response body, empty when the entry has none
 * @param headers     the response headers, for the provider's rate-limit headers
 */
record LoggedResponse(String requestId, int status, String contentType, byte[] body, JsonNode headers) {

    /** Reads one entry; null when it is not an object (nothing in it can be settled). */
    static LoggedResponse of(JsonNode entry) {
        if (entry == null || !entry.isObject()) {
            return null;
        }
        JsonNode response = entry.path("response");
        JsonNode status = response.path("status");
        JsonNode body = response.path("body");
        return new LoggedResponse(single(entry.path("request").path("headers"),
                TokenBudgetPlugin.REQUEST_ID_HEADER),
                status.canConvertToInt() ? status.asInt() : -1,
                single(response.path("headers"), "content-type"),
                body.isTextual() ? bytes(body.asText()) : new byte[0],
                response.path("headers"));
    }

    /**
     * The bytes of a body the settle endpoint read as ISO-8859-1 (one character per byte of the
     * entry, escapes aside); a character above U+00FF can only come from a {@code \\u} escape
     * of another encoder, whose text is then UTF-8.
     */
    static byte[] bytes(String body) {
        for (int i = 0; i < body.length(); i++) {
            if (body.charAt(i) > 0xff) {
                return body.getBytes(StandardCharsets.UTF_8);
            }
        }
        return body.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A response header by name (any case), the first value of a repeated one; null when absent. */
    String header(String name) {
        JsonNode v = headers.path(name.toLowerCase(Locale.ROOT));
        if (v.isArray()) {
            v = v.path(0);
        }
        return v.isValueNode() ? v.asText() : null;
    }

    /**
     * A header with exactly one value: a request header sent twice arrives as a list, and an id that
     * is not the one the pre-request filter set is no id at all.
     */
    private static String single(JsonNode headers, String name) {
        JsonNode v = headers.path(name);
        return v.isTextual() && !v.asText().isEmpty() ? v.asText() : null;
    }
}
