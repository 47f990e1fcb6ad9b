package dev.tokenbudget.gateway;

/**
 * The client request as an adapter sees it when its headers arrive. Adapters implement it over
 * their gateway's request type (a Spring {@code ServerHttpRequest}, Envoy's header map, an APISIX
 * {@code HttpRequest}).
 */
public interface RequestView {

    /** The HTTP method, upper case. */
    String method();

    /** The request path with its query string, as received (e.g. {@code /v1beta/models/x:generateContent?alt=sse}). */
    String path();

    /** The first value of a header, matched case-insensitively, or null when absent. */
    String header(String name);
}
