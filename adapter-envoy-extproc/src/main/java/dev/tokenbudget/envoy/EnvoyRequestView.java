package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.RequestView;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The request as Envoy's {@code request_headers} message shows it: pseudo-headers for method and path. */
record EnvoyRequestView(Map<String, List<String>> headers) implements RequestView {

    @Override
    public String method() {
        String m = HeaderMaps.first(headers, ":method");
        return m == null ? "GET" : m.toUpperCase(Locale.ROOT);
    }

    @Override
    public String path() {
        String p = HeaderMaps.first(headers, ":path");
        return p == null ? "/" : p;
    }

    @Override
    public String header(String name) {
        return HeaderMaps.first(headers, name.toLowerCase(Locale.ROOT));
    }
}
