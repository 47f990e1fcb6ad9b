package dev.tokenbudget.console.admin;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The dashboard's static files, served from the jar (no CDN: it works without internet). Only
 * these names are served; the page itself holds no data and reads the admin API with the token
 * the operator enters, so these files need none.
 */
final class Dashboard {

    private static final String BASE = "/dev/tokenbudget/console/admin/dashboard/";

    /** Scripts and styles only from this origin, data only from the API: no inline code, no third party. */
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private record Asset(byte[] bytes, String contentType) {
    }

    private final Map<String, Asset> assets;

    Dashboard() {
        this.assets = Map.of(
                "/", load("index.html", "text/html; charset=utf-8"),
                "/index.html", load("index.html", "text/html; charset=utf-8"),
                "/dashboard.js", load("dashboard.js", "text/javascript; charset=utf-8"),
                "/dashboard.css", load("dashboard.css", "text/css; charset=utf-8"));
    }

    private static Asset load(String name, String type) {
        try (InputStream in = Dashboard.class.getResourceAsStream(BASE + name)) {
            if (in == null) {
                throw new IllegalStateException("dashboard resource " + BASE + name + " is missing from the jar");
            }
            return new Asset(in.readAllBytes(), type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether {@code path} is one of the dashboard's files. */
    boolean serves(String path) {
        return assets.containsKey(path);
    }

    void serve(HttpExchange ex, String path) throws IOException {
        if (!ex.getRequestMethod().equals("GET")) {
            throw new ApiException(405, "method_not_allowed", ex.getRequestMethod() + " is not allowed on "
                    + path + "; allowed: GET");
        }
        Asset a = assets.get(path);
        ex.getResponseHeaders().set("Content-Type", a.contentType());
        ex.getResponseHeaders().set("Content-Security-Policy", CSP);
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, a.bytes().length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(a.bytes());
        }
    }
}
