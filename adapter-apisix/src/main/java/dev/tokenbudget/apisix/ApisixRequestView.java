package dev.tokenbudget.apisix;

import dev.tokenbudget.gateway.RequestView;
import org.apache.apisix.plugin.runner.HttpRequest;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * An APISIX request call as the gateway layer reads it. APISIX sends the path without its query
 * and the query arguments decoded, apart; the path is put back together with the arguments
 * re-encoded so that the gateway finds Gemini's {@code ?key=} and {@code alt=sse}.
 */
final class ApisixRequestView implements RequestView {

    private final String method;
    private final String path;
    private final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final Map<String, String> aliases;

    /**
     * @param aliases header names the engine asks for, mapped to the header this route reads
     *                instead (a route's {@code feature_header} / {@code user_header})
     */
    ApisixRequestView(HttpRequest request, Map<String, String> aliases) {
        this.aliases = aliases;
        this.method = request.getMethod() == null ? "GET" : request.getMethod().name();
        this.path = withQuery(request.getPath(), request.getArgs());
        // APISIX sends a header with several values as several entries; the runner keeps the last
        Map<String, String> h = request.getHeaders();
        if (h != null) {
            headers.putAll(h);
        }
    }

    private static String withQuery(String path, Map<String, String> args) {
        String p = path == null || path.isEmpty() ? "/" : path;
        if (args == null || args.isEmpty()) {
            return p;
        }
        StringBuilder sb = new StringBuilder(p).append('?');
        boolean first = true;
        for (Map.Entry<String, String> a : new TreeMap<>(args).entrySet()) {
            sb.append(first ? "" : "&").append(URLEncoder.encode(a.getKey(), StandardCharsets.UTF_8));
            // a flag argument (?stream) arrives without a value
            if (a.getValue() != null) {
                sb.append('=').append(URLEncoder.encode(a.getValue(), StandardCharsets.UTF_8));
            }
            first = false;
        }
        return sb.toString();
    }

    @Override
    public String method() {
        return method.toUpperCase(Locale.ROOT);
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String header(String name) {
        if (name == null) {
            return null;
        }
        return headers.get(aliases.getOrDefault(name.toLowerCase(Locale.ROOT), name));
    }
}
