package dev.tokenbudget.apisix;

import dev.tokenbudget.engine.DecisionHeaders;
import dev.tokenbudget.gateway.Forward;
import org.apache.apisix.plugin.runner.HttpRequest;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Carries out the parts of a {@link Forward} that runner 0.4.0's {@code Rewrite} action can
 * change: request headers, the path and the query arguments. The body (and the client's response
 * headers) go through {@link RewriteExtras}. The route label (and
 * {@code x-tokenbudget-degraded-model}) tell the upstream that APISIX's {@code traffic-split}
 * chose for it; a model named in the path (Gemini, Azure deployments) is changed in the path.
 */
final class UpstreamRewrite {

    private UpstreamRewrite() {
    }

    static void apply(Forward f, HttpRequest request) {
        // removals first: setting the credential afterwards overrides the removal of its header
        for (String h : f.removeHeaders()) {
            if (request.getHeaders().keySet().stream().anyMatch(h::equalsIgnoreCase)) {
                request.setHeader(h, null);
            }
        }
        for (Map.Entry<String, String> e : f.setHeaders().entrySet()) {
            request.setHeader(e.getKey(), e.getValue());
        }
        if (f.degraded() && f.body() != null && f.model() != null) {
            request.setHeader(DecisionHeaders.DEGRADED_MODEL, f.model());
        }
        if (f.path() != null) {
            rewritePath(f.path(), request);
        }
    }

    /** The forward path carries its query: APISIX takes the path and the arguments apart. */
    private static void rewritePath(String pathWithQuery, HttpRequest request) {
        int q = pathWithQuery.indexOf('?');
        // APISIX hands the runner the decoded path and escapes the one it gets back
        // (ext-plugin/init.lua: uri_safe_encode), so an encoded model id (Bedrock's %3A) goes decoded
        String path = UpstreamSignature.percentDecoded(q < 0 ? pathWithQuery : pathWithQuery.substring(0, q));
        if (!path.equals(request.getPath())) {
            request.setPath(path);
        }
        Set<String> kept = new HashSet<>();
        if (q >= 0) {
            for (String param : pathWithQuery.substring(q + 1).split("&")) {
                int eq = param.indexOf('=');
                kept.add(URLDecoder.decode(eq < 0 ? param : param.substring(0, eq), StandardCharsets.UTF_8));
            }
        }
        boolean changed = false;
        for (String arg : request.getArgs().keySet()) {
            if (!kept.contains(arg)) {
                request.setArg(arg, null); // e.g. Gemini's ?key= carrying the virtual key
                changed = true;
            }
        }
        if (!changed && !path.equals(request.getPath())) {
            // ext-plugin/init.lua sends a rewritten path with the query only when an argument
            // changed: set the kept ones again, or ?alt=sse of a degraded Vertex stream is lost
            request.getArgs().forEach((name, value) -> {
                if (kept.contains(name)) {
                    request.setArg(name, value);
                }
            });
        }
    }
}
