package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One admin API request, as a handler sees it: the path parameters of its route, the query
 * parameters (each named once), the body, and who sent it.
 */
final class ApiRequest {

    /** Budget ids as configs and keys make them ({@code support}, {@code key:agents}). */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@+-]{0,199}");

    private final Map<String, String> params;
    private final Map<String, String> query;
    private final byte[] body;
    private final String caller;

    ApiRequest(Map<String, String> params, Map<String, String> query, byte[] body, String caller) {
        this.params = params;
        this.query = query;
        this.body = body;
        this.caller = caller;
    }

    /** A path parameter that names an id: 400 unless it looks like one (no slashes, dots-only, blanks). */
    String id(String name) {
        String v = params.get(name);
        if (v == null || !ID.matcher(v).matches()) {
            throw ApiException.badRequest("invalid " + name + " '" + Json.clip(v) + "': ids are 1-200 characters of "
                    + "A-Z a-z 0-9 . _ : @ + - starting with a letter or digit");
        }
        return v;
    }

    String query(String name) {
        return query.get(name);
    }

    /** A positive whole query parameter, or {@code dflt} when absent; capped at {@code max}. */
    int queryInt(String name, int dflt, int max) {
        String v = query.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < 1) {
                throw new NumberFormatException();
            }
            return Math.min(n, max);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("query parameter " + name + " must be a whole number >= 1, was '"
                    + Json.clip(v) + "'");
        }
    }

    /** A non-negative sequence number, or 0 when absent. */
    long querySeq(String name) {
        String v = query.get(name);
        if (v == null) {
            return 0;
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("query parameter " + name + " must be a sequence number >= 0, was '"
                    + Json.clip(v) + "'");
        }
    }

    /** Whether a query parameter holds an ISO-8601 instant rather than a sequence number. */
    static boolean isInstant(String v) {
        return v != null && v.contains("T");
    }

    Instant queryInstant(String name) {
        String v = query.get(name);
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest("query parameter " + name + " must be a sequence number or an ISO-8601 "
                    + "instant such as 2026-11-02T09:00:00Z, was '" + Json.clip(v) + "'");
        }
    }

    /** The body as a JSON object: 400 naming the problem when it is empty, not JSON, or not an object. */
    JsonNode jsonObject(ObjectMapper json) {
        if (body.length == 0) {
            throw ApiException.badRequest("the request needs a JSON object body");
        }
        JsonNode n;
        try {
            n = json.readTree(body);
        } catch (java.io.IOException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException jp
                    ? jp.getOriginalMessage() : e.getMessage();
            throw ApiException.badRequest("the body is not valid JSON: " + Json.clip(why));
        }
        if (n == null || !n.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object");
        }
        return n;
    }

    /** Who made the request, for the ledger: the remote address (the token is shared, not personal). */
    String caller() {
        return caller;
    }
}
