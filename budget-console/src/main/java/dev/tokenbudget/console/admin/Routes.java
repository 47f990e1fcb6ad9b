package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The admin API's route table: method and path template ({@code /v1/budgets/{id}/limits}) to
 * handler. Paths are matched segment by segment on the raw path, each segment percent-decoded on
 * its own, so an encoded slash ({@code ..%2f..}) stays inside one parameter, where the id check
 * refuses it, and can never reach another route.
 */
final class Routes {

    /** What a route answers: a status and a JSON body. */
    record Reply(int status, JsonNode body) {
        static Reply ok(JsonNode body) {
            return new Reply(200, body);
        }
    }

    @FunctionalInterface
    interface Handler {
        Reply handle(ApiRequest request);
    }

    /** One route; {@code template} segments in braces are parameters. */
    record Route(String method, String template, Handler handler) {
        List<String> segments() {
            return split(template);
        }
    }

    /** A matched route and its decoded parameters. */
    record Match(Route route, Map<String, String> params) {
    }

    private final List<Route> routes = new ArrayList<>();

    Routes add(String method, String template, Handler handler) {
        routes.add(new Route(method, template, handler));
        return this;
    }

    List<Route> all() {
        return List.copyOf(routes);
    }

    /** The route for a request, or a 404 (no such path) / 405 (path known, method not) error. */
    Match match(String method, String rawPath) {
        List<String> raw = split(rawPath);
        Set<String> allowed = new LinkedHashSet<>();
        for (Route r : routes) {
            Map<String, String> params = bind(r.segments(), raw);
            if (params == null) {
                continue;
            }
            if (r.method().equals(method)) {
                return new Match(r, params);
            }
            allowed.add(r.method());
        }
        if (!allowed.isEmpty()) {
            throw new ApiException(405, "method_not_allowed", method + " is not allowed on " + Json.clip(rawPath)
                    + "; allowed: " + String.join(", ", allowed));
        }
        throw ApiException.notFound("not_found", "no admin API route " + Json.clip(rawPath)
                + "; see /v1/openapi.json");
    }

    private static Map<String, String> bind(List<String> template, List<String> raw) {
        if (template.size() != raw.size()) {
            return null;
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < template.size(); i++) {
            String t = template.get(i);
            if (t.startsWith("{")) {
                params.put(t.substring(1, t.length() - 1), decode(raw.get(i)));
            } else if (!t.equals(raw.get(i))) {
                return null;
            }
        }
        return params;
    }

    /** Segments of a path; "/a//b/" keeps its empty segments so that it matches nothing. */
    static List<String> split(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        return List.of(p.split("/", -1));
    }

    /** Percent-decodes one path segment as UTF-8 ('+' stays '+'); 400 on a broken escape. */
    static String decode(String segment) {
        if (segment.indexOf('%') < 0) {
            return segment;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (c == '%') {
                int hi = i + 2 < segment.length() ? Character.digit(segment.charAt(i + 1), 16) : -1;
                int lo = hi >= 0 ? Character.digit(segment.charAt(i + 2), 16) : -1;
                if (lo < 0) {
                    throw ApiException.badRequest("broken percent-escape in the path segment '" + Json.clip(segment)
                            + "'");
                }
                out.write(hi * 16 + lo);
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(out.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw ApiException.badRequest("the path segment '" + Json.clip(segment) + "' is not UTF-8");
        }
    }
}
