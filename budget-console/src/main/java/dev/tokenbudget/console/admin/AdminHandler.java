package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.tokenbudget.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The admin port's one HTTP handler: dashboard files, then for {@code /v1/...} the bearer token,
 * the route, the body, and a JSON answer. Every failure becomes a JSON error; a bug becomes a 500
 * whose details go to the log, never to the client.
 */
final class AdminHandler implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);

    /** Largest request body accepted; admin requests are a few hundred bytes. */
    static final int MAX_BODY = 64 * 1024;

    private final AdminToken token;
    private final Routes routes;
    private final Dashboard dashboard;
    private final ObjectMapper json;

    AdminHandler(AdminToken token, Routes routes, Dashboard dashboard, ObjectMapper json) {
        this.token = token;
        this.routes = routes;
        this.dashboard = dashboard;
        this.json = json;
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try (ex) {
            ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            ex.getResponseHeaders().set("Referrer-Policy", "no-referrer");
            try {
                route(ex);
            } catch (ApiException e) {
                error(ex, e.status(), e.code(), e.getMessage());
            } catch (StoreUnavailableException e) {
                error(ex, 503, "store_unavailable", "the budget store cannot be read right now: " + e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("admin API failed on {} {}", ex.getRequestMethod(), ex.getRequestURI().getRawPath(), e);
                error(ex, 500, "internal", "internal error; the server log has the details");
            }
        } catch (IOException e) {
            // the client went away mid-answer: nothing left to tell it
            LOG.debug("admin API connection closed early: {}", e.toString());
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        if (path == null || path.isEmpty()) {
            throw ApiException.badRequest("the request has no path");
        }
        if (dashboard.serves(path)) {
            dashboard.serve(ex, path);
            return;
        }
        if (!path.startsWith("/v1/")) {
            throw ApiException.notFound("not_found", "nothing at " + Json.clip(path) + "; the dashboard is at / and "
                    + "the API under /v1/ (see /v1/openapi.json)");
        }
        if (!token.accepts(ex.getRequestHeaders().getFirst("Authorization"))) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"tokenbudget\"");
            throw new ApiException(401, "unauthorized", "missing or wrong bearer token: send 'Authorization: Bearer "
                    + "<token>' with the value of " + AdminToken.ENV);
        }
        Routes.Match m = routes.match(ex.getRequestMethod(), path);
        ApiRequest req = new ApiRequest(m.params(), query(ex.getRequestURI().getRawQuery()), body(ex), caller(ex));
        Routes.Reply reply = m.route().handler().handle(req);
        send(ex, reply.status(), reply.body());
    }

    private static byte[] body(HttpExchange ex) throws IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.trim()) > MAX_BODY) {
                    throw tooLarge();
                }
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("Content-Length is not a number");
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(MAX_BODY + 1);
            if (b.length > MAX_BODY) {
                throw tooLarge();
            }
            return b;
        }
    }

    private static ApiException tooLarge() {
        return new ApiException(413, "body_too_large", "the request body is larger than " + MAX_BODY + " bytes");
    }

    /** Query parameters, each at most once; 400 on a broken escape or a repeated name. */
    static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return q;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k;
            String v;
            try {
                k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("broken percent-escape in the query: " + Json.clip(pair));
            }
            if (q.put(k, v) != null) {
                throw ApiException.badRequest("query parameter " + Json.clip(k) + " is given more than once");
            }
        }
        return q;
    }

    private static String caller(HttpExchange ex) {
        InetSocketAddress a = ex.getRemoteAddress();
        return a == null ? "unknown" : a.getAddress().getHostAddress();
    }

    private void error(HttpExchange ex, int status, String code, String message) throws IOException {
        ObjectNode n = json.createObjectNode();
        n.putObject("error").put("status", status).put("code", code).put("message", message);
        send(ex, status, n);
    }

    private void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] b = json.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }
}
