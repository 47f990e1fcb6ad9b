package dev.tokenbudget.apisix;

import dev.tokenbudget.config.ConfigError;
import dev.tokenbudget.config.ConfigException;
import org.apache.apisix.plugin.runner.HttpResponse;

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

    static void stop(HttpResponse response, int status, String jsonBody) {
        response.setStatusCode(status);
        response.setHeader("content-type", "application/json");
        response.setBody(jsonBody);
    }
}
