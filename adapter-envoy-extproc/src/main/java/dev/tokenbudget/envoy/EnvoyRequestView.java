package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.RequestView;

import java.util.Locale;

/** The request as Envoy's {@code request_headers} message shows it: pseudo-headers for method and path. */
record EnvoyRequestView(EnvoyHeaders headers) implements RequestView {

    @Override
    public String method() {
        String m = headers.first(":method");
        return m == null ? "GET" : m.toUpperCase(Locale.ROOT);
    }

    @Override
    public String path() {
        String p = headers.first(":path");
        return p == null ? "/" : p;
    }

    @Override
    public String header(String name) {
        return headers.first(name);
    }
}
