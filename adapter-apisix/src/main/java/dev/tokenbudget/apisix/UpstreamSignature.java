package dev.tokenbudget.apisix;

import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.provider.Provider;
import org.apache.apisix.plugin.runner.HttpRequest;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Signs a forwarded request as nginx will send it upstream, for providers with an
 * {@code UpstreamSigner}: Bedrock's SigV4 and Vertex AI's access token, over the body nginx
 * forwards (the engine's rewrite when there is one, else the client's). A SigV4 signature also covers
 * the host and the path: the host is the route conf's {@code upstream} (what {@code pass_host}
 * must send), and the path is set through the {@code Rewrite} action even when unchanged, because
 * nginx then sends exactly {@link #nginxEscaped} of it ({@code ext-plugin/init.lua} sets
 * {@code upstream_uri} to {@code core.utils.uri_safe_encode(path)}, without the query unless
 * arguments changed), while an untouched request goes with the client's own encoding, which the
 * runner does not see.
 */
final class UpstreamSignature {

    /** Client headers that would spoil or contradict a SigV4 signature the plugin sets. */
    private static final String[] SIGNATURE_HEADERS = {"x-amz-date", "x-amz-content-sha256", "x-amz-security-token"};

    private UpstreamSignature() {
    }

    /**
     * Sets the credential headers (and, for SigV4, the path) on {@code request}; nothing without a signer.
     *
     * @throws RuntimeException when there are no credentials, or a Bedrock route has no {@code upstream} in its conf
     */
    static void apply(Forward f, RouteConf conf, HttpRequest request, byte[] sentBody) {
        if (f.signer() == null) {
            return;
        }
        // the runner's getPath() stays the client's (decoded) path; a rewritten one is the forward's
        String path = request.getPath();
        if (f.path() != null) {
            int q = f.path().indexOf('?');
            path = percentDecoded(q < 0 ? f.path() : f.path().substring(0, q));
        }
        String base;
        if (f.provider() == Provider.BEDROCK) {
            if (conf.upstream() == null) {
                throw new IllegalStateException("the route's TokenBudget conf has no \"upstream\": a SigV4 signature "
                        + "covers the host the request is sent to");
            }
            base = conf.upstream().toString();
            request.setPath(path); // nginx sends it as uri_safe_encode(path), signed below
            for (String h : SIGNATURE_HEADERS) {
                if (request.getHeaders().keySet().stream().anyMatch(h::equalsIgnoreCase)) {
                    request.setHeader(h, null);
                }
            }
        } else {
            base = conf.upstream() != null ? conf.upstream().toString() : "https://" + header(request, "host");
        }
        Map<String, String> signed = new HashMap<>();
        String contentType = header(request, "content-type");
        if (contentType != null) {
            signed.put("content-type", contentType);
        }
        String method = request.getMethod() == null ? "POST" : request.getMethod().name();
        Map<String, String> credentials = f.sign(method, URI.create(base + nginxEscaped(path)), signed, sentBody);
        credentials.forEach(request::setHeader);
    }

    /** The first value of a request header, any case; null when absent. */
    private static String header(HttpRequest request, String name) {
        for (Map.Entry<String, String> e : request.getHeaders().entrySet()) {
            if (e.getKey().toLowerCase(Locale.ROOT).equals(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    /**
     * nginx's {@code ngx_escape_uri(..., NGX_ESCAPE_URI)}: control characters, space, {@code #},
     * {@code %}, {@code ?}, DEL and every byte above 0x7F as {@code %XX} (upper-case hex).
     */
    static String nginxEscaped(String path) {
        StringBuilder out = new StringBuilder(path.length() + 16);
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c <= 0x20 || c == '#' || c == '%' || c == '?' || c >= 0x7f) {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            } else {
                out.append((char) c);
            }
        }
        return out.toString();
    }

    /** Undoes percent-encoding ({@code %3A} to {@code :}), leaving {@code +} and malformed escapes as they are. */
    static String percentDecoded(String path) {
        if (path.indexOf('%') < 0) {
            return path;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(path.length());
        byte[] in = path.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < in.length; i++) {
            int hi = i + 2 < in.length && in[i] == '%' ? Character.digit(in[i + 1], 16) : -1;
            int lo = hi >= 0 ? Character.digit(in[i + 2], 16) : -1;
            if (lo >= 0) {
                out.write(hi << 4 | lo);
                i += 2;
            } else {
                out.write(in[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
