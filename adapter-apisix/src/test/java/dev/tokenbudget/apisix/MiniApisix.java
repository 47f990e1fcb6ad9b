package dev.tokenbudget.apisix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * APISIX's data plane for one route of {@code examples/apisix/apisix.yaml}, as far as TokenBudget
 * meets it, for fast unit-level tests against the in-process runner; {@link RealApisixIT} runs
 * the same file on a real APISIX. Each step names the APISIX 3.9.1 source it imitates:
 * <ol>
 *   <li>the {@code ext-plugin-pre-req} conf prepared and the request call made with
 *       {@code $request_id} ({@code apisix/plugins/ext-plugin/init.lua}: the prepare-conf and
 *       HTTP-request-call entries of {@code rpc_handlers}, {@code handle_extra_info}); a
 *       {@code Stop} answered as the runner set it, a {@code Rewrite}'s headers, path and
 *       arguments applied to the request (the same HTTP-request-call handler);</li>
 *   <li>{@code traffic-split}'s first rule whose {@code vars} hold picks the upstream by id
 *       ({@code apisix/plugins/traffic-split.lua}, {@code _M.access}; only {@code ["http_*", "==", v]}
 *       is understood here);</li>
 *   <li>the upstream called and its answer passed to the client unchanged (nginx's
 *       {@code proxy_pass} in {@code apisix/cli/ngx_tpl.lua}'s {@code location /});</li>
 *   <li>{@code http-logger}'s entry ({@code apisix/utils/log-util.lua}, {@code get_full_log}: the
 *       request headers as rewritten, the response status, headers and body) posted to its
 *       {@code uri} with {@code Authorization: auth_header} ({@code apisix/plugins/http-logger.lua},
 *       {@code send_http_data}), with {@code ${{VAR}}} read from the environment as standalone mode
 *       does ({@code apisix/cli/file.lua}, {@code var_sub}). APISIX posts from a timer after the
 *       response; here it is posted before {@link #send} returns, so tests see it settled.</li>
 * </ol>
 */
final class MiniApisix implements AutoCloseable {

    private static final Set<String> RESTRICTED = Set.of("host", "content-length", "connection", "upgrade",
            "expect", "transfer-encoding");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern ENV = Pattern.compile("\\$\\{\\{\\s*([A-Za-z0-9_]+)\\s*}}");

    /** What the client got, and what happened on the way. */
    record Result(int status, Map<String, String> headers, byte[] body, A6Client.ReqCallAnswer pre,
                  FakeUpstream upstream, FakeUpstream.Received upstreamRequest, int logged) {

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
    private final URI logUri;
    private final String authHeader;
    private final HttpClient http = HttpClient.newHttpClient();

    /**
     * @param routesYaml   the standalone routes file ({@code examples/apisix/apisix.yaml})
     * @param routeId      the route to run
     * @param engineConfig the engine config the test uses in place of the route's {@code config} path
     * @param settlePort   the settle endpoint's port, in place of the logger's
     */
    MiniApisix(A6Client apisix, Path routesYaml, String routeId, Path engineConfig, FakeUpstream defaultUpstream,
               Map<String, FakeUpstream> upstreamsById, int settlePort) throws IOException {
        this.apisix = apisix;
        JsonNode routes = YAML.readTree(Files.readString(routesYaml)).path("routes");
        JsonNode found = null;
        for (JsonNode r : routes) {
            if (routeId.equals(r.path("id").asText())) {
                found = r;
            }
        }
        if (found == null) {
            throw new IllegalStateException(routesYaml + " has no route " + routeId);
        }
        this.route = found;
        this.defaultUpstream = defaultUpstream;
        this.upstreamsById = upstreamsById;
        this.preToken = apisix.prepareConf(routeId + "#ext-plugin-pre-req", conf(engineConfig));
        JsonNode logger = route.path("plugins").path("http-logger");
        if (logger.isMissingNode()) {
            this.logUri = null;
            this.authHeader = null;
        } else {
            URI u = URI.create(logger.path("uri").asText());
            this.logUri = URI.create(u.getScheme() + "://" + u.getHost() + ":" + settlePort + u.getPath());
            this.authHeader = env(logger.path("auth_header").asText(null));
        }
    }

    private static String env(String value) {
        if (value == null) {
            return null;
        }
        Matcher m = ENV.matcher(value);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String v = System.getenv(m.group(1));
            if (v == null) {
                throw new IllegalStateException("the route reads ${{" + m.group(1) + "}}, which is not set");
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        return m.appendTail(sb).toString();
    }

    /** The plugin's conf entries, each value with its engine config path pointed at the test's file. */
    private List<Map.Entry<String, String>> conf(Path engineConfig) throws IOException {
        JsonNode conf = route.path("plugins").path("ext-plugin-pre-req").path("conf");
        if (!conf.isArray() || conf.isEmpty()) {
            throw new IllegalStateException("ext-plugin-pre-req.conf must be a non-empty array");
        }
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (JsonNode e : conf) {
            ObjectNode value = (ObjectNode) JSON.readTree(e.path("value").asText());
            value.put("config", engineConfig.toString());
            out.add(Map.entry(e.path("name").asText(), JSON.writeValueAsString(value)));
        }
        return out;
    }

    Result send(String method, String path, Map<String, String> clientHeaders, byte[] body) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        clientHeaders.forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v));
        Map<String, String> vars = Map.of("request_id", requestId());
        A6Client.Request request = new A6Client.Request(method, path, headers, Map.of(), vars, body);

        A6Client.ReqCallAnswer pre = apisix.httpReqCall(preToken, request);
        if (pre.errorCode() != null) {
            return new Result(503, Map.of(), null, pre, null, null, -1);
        }
        if (pre.stopped()) {
            Map<String, String> h = new TreeMap<>();
            pre.stopHeaders().forEach((k, v) -> h.put(k, v.get(0)));
            return new Result(pre.status(), h, pre.body(), pre, null, null, -1);
        }
        pre.rewriteHeaders().forEach((k, v) -> {
            if (v == null) {
                headers.remove(k.toLowerCase(Locale.ROOT));
            } else {
                headers.put(k.toLowerCase(Locale.ROOT), v);
            }
        });
        String upstreamPath = pre.rewritePath() != null ? pre.rewritePath() : path;
        // ext-plugin/init.lua: ngx.req.set_body_data(Rewrite.body), Content-Length with it
        byte[] sent = pre.body() != null ? pre.body() : body;

        FakeUpstream upstream = trafficSplit(headers);
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(upstream.base() + upstreamPath))
                .method(method, sent == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(sent));
        headers.forEach((k, v) -> {
            if (!RESTRICTED.contains(k)) {
                rb.header(k, v);
            }
        });
        HttpResponse<byte[]> up = http.send(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
        Map<String, String> upHeaders = new TreeMap<>();
        up.headers().map().forEach((k, v) -> upHeaders.put(k.toLowerCase(Locale.ROOT), v.get(0)));
        FakeUpstream.Received received = upstream.last();
        int logged = log(headers, up.statusCode(), upHeaders, up.body());
        return new Result(up.statusCode(), upHeaders, up.body(), pre, upstream, received, logged);
    }

    /** The logger's POST for this request; its status, or -1 when the route has no logger. */
    private int log(Map<String, String> requestHeaders, int status, Map<String, String> responseHeaders,
                    byte[] responseBody) throws Exception {
        if (logUri == null) {
            return -1;
        }
        ObjectNode entry = JSON.createObjectNode();
        ObjectNode req = entry.putObject("request");
        req.set("headers", JSON.valueToTree(requestHeaders));
        ObjectNode resp = entry.putObject("response");
        resp.put("status", status);
        resp.set("headers", JSON.valueToTree(responseHeaders));
        if (responseBody != null && responseBody.length > 0) {
            resp.put("body", new String(responseBody, java.nio.charset.StandardCharsets.UTF_8));
        }
        entry.put("route_id", route.path("id").asText());
        HttpRequest.Builder b = HttpRequest.newBuilder(logUri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(entry)));
        if (authHeader != null) {
            b.header("Authorization", authHeader);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
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
