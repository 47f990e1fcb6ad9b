package dev.tokenbudget.apisix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * APISIX's data plane for one route, as far as TokenBudget meets it: reads an Admin API route
 * JSON from {@code examples/apisix/}, prepares its {@code ext-plugin-pre-req} and
 * {@code ext-plugin-post-resp} confs with the runner, and runs a request the way APISIX does:
 * pre-request call, the rewrite applied, {@code traffic-split}'s {@code vars} rule picking the
 * upstream, the upstream called over HTTP, the post-response call with the upstream's answer, and
 * the client's response assembled as {@code ext-plugin-post-resp} assembles it.
 */
final class MiniApisix implements AutoCloseable {

    /** Headers APISIX's ext-plugin never copies from the upstream response. */
    private static final Set<String> EXCLUDED = Set.of("connection", "content-length", "transfer-encoding",
            "location", "server", "www-authenticate", "content-encoding", "content-type", "content-location",
            "content-language");
    private static final Set<String> RESTRICTED = Set.of("host", "content-length", "connection", "upgrade",
            "expect", "transfer-encoding");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the client got, and what happened on the way. */
    record Result(int status, Map<String, String> headers, byte[] body, A6Client.ReqCallAnswer pre,
                  A6Client.RespCallAnswer post, FakeUpstream upstream, FakeUpstream.Received upstreamRequest) {

        String bodyText() {
            return body == null ? "" : new String(body, java.nio.charset.StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final A6Client apisix;
    private final JsonNode route;
    private final FakeUpstream defaultUpstream;
    private final Map<String, FakeUpstream> upstreamsById;
    private final long preToken;
    private final Long postToken;
    private final HttpClient http = HttpClient.newHttpClient();

    /**
     * @param routeJson    an Admin API route body from {@code examples/apisix/}
     * @param engineConfig the engine config the test uses in place of the route's {@code config} path
     */
    MiniApisix(A6Client apisix, Path routeJson, Path engineConfig, FakeUpstream defaultUpstream,
               Map<String, FakeUpstream> upstreamsById) throws IOException {
        this.apisix = apisix;
        this.route = JSON.readTree(Files.readString(routeJson));
        this.defaultUpstream = defaultUpstream;
        this.upstreamsById = upstreamsById;
        String name = route.path("name").asText("route");
        this.preToken = apisix.prepareConf(name + "#ext-plugin-pre-req", conf("ext-plugin-pre-req", engineConfig));
        this.postToken = route.path("plugins").has("ext-plugin-post-resp")
                ? apisix.prepareConf(name + "#ext-plugin-post-resp", conf("ext-plugin-post-resp", engineConfig))
                : null;
    }

    /** The plugin's conf entries, each value with its engine config path pointed at the test's file. */
    private List<Map.Entry<String, String>> conf(String plugin, Path engineConfig) throws IOException {
        JsonNode conf = route.path("plugins").path(plugin).path("conf");
        if (!conf.isArray() || conf.isEmpty()) {
            throw new IllegalStateException(plugin + ".conf must be a non-empty array");
        }
        List<Map.Entry<String, String>> out = new java.util.ArrayList<>();
        for (JsonNode e : conf) {
            ObjectNode value = (ObjectNode) JSON.readTree(e.path("value").asText());
            value.put("config", engineConfig.toString());
            out.add(Map.entry(e.path("name").asText(), JSON.writeValueAsString(value)));
        }
        return out;
    }

    /** The route's plugin conf value for {@code plugin}, unchanged. */
    String confValue(String plugin) {
        return route.path("plugins").path(plugin).path("conf").path(0).path("value").asText();
    }

    Result send(String method, String path, Map<String, String> clientHeaders, byte[] body) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        clientHeaders.forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v));
        Map<String, String> vars = Map.of("request_id", requestId());
        A6Client.Request request = new A6Client.Request(method, path, headers, Map.of(), vars, body);

        A6Client.ReqCallAnswer pre = apisix.httpReqCall(preToken, request);
        if (pre.errorCode() != null) {
            return new Result(503, Map.of(), null, pre, null, null, null);
        }
        if (pre.stopped()) {
            Map<String, String> h = new TreeMap<>();
            pre.stopHeaders().forEach((k, v) -> h.put(k, v.get(0)));
            return new Result(pre.status(), h, pre.body(), pre, null, null, null);
        }
        pre.rewriteHeaders().forEach((k, v) -> {
            if (v == null) {
                headers.remove(k.toLowerCase(Locale.ROOT));
            } else {
                headers.put(k.toLowerCase(Locale.ROOT), v);
            }
        });
        String upstreamPath = pre.rewritePath() != null ? pre.rewritePath() : path;

        FakeUpstream upstream = trafficSplit(headers);
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(upstream.base() + upstreamPath))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach((k, v) -> {
            if (!RESTRICTED.contains(k)) {
                rb.header(k, v);
            }
        });
        HttpResponse<byte[]> up = http.send(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
        Map<String, String> upHeaders = new TreeMap<>();
        up.headers().map().forEach((k, v) -> upHeaders.put(k.toLowerCase(Locale.ROOT), v.get(0)));
        FakeUpstream.Received received = upstream.last();

        if (postToken == null) {
            return new Result(up.statusCode(), upHeaders, up.body(), pre, null, upstream, received);
        }
        A6Client.RespCallAnswer post = apisix.httpRespCall(postToken, request,
                new A6Client.UpstreamResponse(up.statusCode(), upHeaders, up.body()));
        if (post.errorCode() != null) {
            return new Result(503, Map.of(), null, pre, post, upstream, received);
        }
        Map<String, String> clientHeaders2 = new TreeMap<>();
        if (!post.headers().isEmpty()) {
            clientHeaders2.putAll(post.headers());
        } else {
            upHeaders.forEach((k, v) -> {
                if (!EXCLUDED.contains(k)) {
                    clientHeaders2.put(k, v);
                }
            });
        }
        int status = post.status() != 0 ? post.status() : up.statusCode();
        byte[] clientBody = post.body() != null ? post.body() : up.body();
        return new Result(status, clientHeaders2, clientBody, pre, post, upstream, received);
    }

    /** The route's traffic-split: the first rule whose {@code vars} all hold picks its upstream. */
    private FakeUpstream trafficSplit(Map<String, String> headers) {
        for (JsonNode rule : route.path("plugins").path("traffic-split").path("rules")) {
            for (JsonNode match : rule.path("match")) {
                boolean all = true;
                for (JsonNode expr : match.path("vars")) {
                    if (!holds(expr, headers)) {
                        all = false;
                    }
                }
                if (all) {
                    String id = rule.path("weighted_upstreams").path(0).path("upstream_id").asText();
                    FakeUpstream u = upstreamsById.get(id);
                    if (u == null) {
                        throw new IllegalStateException("traffic-split names upstream " + id + ", not set up");
                    }
                    return u;
                }
            }
        }
        return defaultUpstream;
    }

    private static boolean holds(JsonNode expr, Map<String, String> headers) {
        String var = expr.path(0).asText();
        String op = expr.path(1).asText();
        if (!var.startsWith("http_") || !op.equals("==")) {
            throw new IllegalStateException("this test understands [\"http_*\", \"==\", value] only, got " + expr);
        }
        String header = var.substring(5).replace('_', '-');
        return expr.path(2).asText().equals(headers.get(header));
    }

    /** nginx's $request_id: 32 random hex digits. */
    private static String requestId() {
        byte[] b = new byte[16];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    @Override
    public void close() throws IOException {
        apisix.close();
    }
}
