package dev.tokenbudget.scg;

import dev.tokenbudget.gateway.RequestView;
import org.springframework.http.server.reactive.ServerHttpRequest;

/** The engine's view of a Spring request: method, raw path with query, headers. */
final class ExchangeRequestView implements RequestView {

    private final ServerHttpRequest request;

    ExchangeRequestView(ServerHttpRequest request) {
        this.request = request;
    }

    @Override
    public String method() {
        return request.getMethod().name();
    }

    @Override
    public String path() {
        String path = request.getURI().getRawPath();
        String query = request.getURI().getRawQuery();
        return query == null ? path : path + "?" + query;
    }

    @Override
    public String header(String name) {
        return request.getHeaders().getFirst(name);
    }
}
