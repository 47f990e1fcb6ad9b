package dev.tokenbudget.apisix;

import dev.tokenbudget.config.ConfigError;
import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.gateway.Reply;
import org.apache.apisix.plugin.runner.HttpResponse;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Collectors;

/** Answers the runner sends instead of forwarding a request (a {@code Stop} action). */
final class Replies {

    private Replies() {
    }

    /**
     * 500 for a route whose TokenBudget conf is unusable. The route's own conf errors are named
     * (the route's author wrote them); an engine file that fails to load is only referred to,
     * since its errors may show server paths: they are in the runner's log.
     */
    static void misconfigured(HttpResponse response, ConfigException e, boolean routeConf) {
        String detail = routeConf
                ? e.errors().stream().map(ConfigError::toString).collect(Collectors.joining("; "))
                : "the tokenbudget engine config of this route could not be loaded; the plugin runner's log says why";
        stop(response, 500, "{\"error\":{\"type\":\"tokenbudget_misconfigured\",\"message\":"
                + Json.quote("TokenBudget on this route is misconfigured: " + detail) + "}}");
    }

    /** A reply of the gateway layer (401, 400, 413, 429, 403, 503...) with its headers and provider-shaped body. */
    static void send(HttpResponse response, Reply reply) {
        response.setStatusCode(reply.status());
        for (Map.Entry<String, String> h : reply.headers().entrySet()) {
            response.setHeader(h.getKey(), h.getValue());
        }
        // the runner writes the body string as UTF-8, which is what the reply's bytes are
        response.setBody(new String(reply.body(), StandardCharsets.UTF_8));
    }

    static void stop(HttpResponse response, int status, String jsonBody) {
        response.setStatusCode(status);
        response.setHeader("content-type", "application/json");
        response.setBody(jsonBody);
    }
}
