package dev.tokenbudget.apisix;

import org.apache.apisix.plugin.runner.HttpResponse;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * What the plugin adds to a runner response beyond what runner 0.4.0's {@link HttpResponse} can
 * carry: a new request body and headers for the client's response, for APISIX's {@code Rewrite}
 * fields {@code body} and {@code resp_headers}. The filter leaves them here for its response;
 * {@link RewriteExtrasEncoder} takes them when that response is written to APISIX.
 *
 * <p>Keyed by the response object itself (the runner makes one per call and compares it by
 * identity), so calls of any APISIX worker on any event loop never meet. An entry whose response
 * is never written (the chain failed and the runner answered with an error) goes with that
 * response, which the runner drops on its next call.
 */
final class RewriteExtras {

    /** A body to send upstream instead of the client's (null: unchanged) and client response headers. */
    record Extra(byte[] body, Map<String, String> responseHeaders) {
    }

    private final Map<HttpResponse, Extra> pending = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile boolean installed;

    /** True once the runner writes its responses through {@link RewriteExtrasEncoder}: only then do extras go out. */
    boolean installed() {
        return installed;
    }

    void markInstalled() {
        installed = true;
    }

    /** Leaves {@code body} (or null) and {@code responseHeaders} for {@code response}; nothing when both are empty. */
    void put(HttpResponse response, byte[] body, Map<String, String> responseHeaders) {
        if (body == null && responseHeaders.isEmpty()) {
            return;
        }
        pending.put(response, new Extra(body, Map.copyOf(responseHeaders)));
    }

    /** The extras left for {@code response}, removed; null when none. */
    Extra take(HttpResponse response) {
        return pending.remove(response);
    }

    /** Extras waiting for their response to be written. */
    int pending() {
        return pending.size();
    }
}
