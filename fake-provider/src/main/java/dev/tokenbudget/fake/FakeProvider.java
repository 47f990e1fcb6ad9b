package dev.tokenbudget.fake;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A fake LLM provider on loopback that speaks OpenAI Chat Completions, OpenAI Responses,
 * Anthropic Messages, AWS Bedrock Runtime (Converse, ConverseStream, InvokeModel,
 * InvokeModelWithResponseStream) and Google Vertex AI (Gemini's generateContent and
 * streamGenerateContent, Claude's rawPredict and streamRawPredict) exactly on the wire, JSON and streamed, with usage counted by a real
 * tokenizer. It echoes the requested model, honours the output ceiling, streams one flushed HTTP
 * chunk per event, and records every request and the usage it reported so that tests can
 * reconcile what a gateway charged with what the provider said.
 *
 * <pre>
 *   try (FakeProvider fake = FakeProvider.start(0)) {
 *       String base = fake.baseUrl();                 // http://127.0.0.1:PORT
 *       ... send requests ...
 *       fake.exchanges().get(0).usage();              // what it reported
 *   }
 * </pre>
 */
public final class FakeProvider implements AutoCloseable {

    static {
        // The JDK server reads these once, when its configuration class loads, so they must be set
        // before the first HttpServer in this JVM; an explicit setting is left alone.
        //
        // It writes headers and body (and each stream chunk) separately; with Nagle's algorithm on,
        // the second write waits for the client's delayed ACK, ~40 ms per answer on loopback.
        defaultProperty("sun.net.httpserver.nodelay", "true");
        // It closes a connection the moment it would be the 201st idle one, and any connection idle
        // for 30 s. A gateway's pool holds more than 200 after a burst and may pick a connection
        // just as the server closes it: the request then fails while it is being sent
        // (reactor-netty's PrematureCloseException, KeepAliveTest). The tests are about the
        // gateway, not about a provider's idle policy, so the fake keeps idle connections longer
        // than the clients in our tests pool them (nginx's upstream keepalive_timeout is 60 s;
        // reactor-netty's pool sets no limit) and sets no count.
        defaultProperty("sun.net.httpserver.maxIdleConnections", String.valueOf(Integer.MAX_VALUE));
        defaultProperty("sun.net.httpserver.idleInterval", "300");
    }

    private static void defaultProperty(String name, String value) {
        if (System.getProperty(name) == null) {
            System.setProperty(name, value);
        }
    }

    /** Default answer length in tokens when the request's ceiling allows it. */
    public static final int DEFAULT_REPLY_TOKENS = 48;

    /** Only the latest exchanges are kept, so that a long-running fake (the quickstart) stays small. */
    public static final int MAX_EXCHANGES = 10_000;

    private final HttpServer server;
    private final ExecutorService executor;
    private final Map<String, ProviderApi> apis = new LinkedHashMap<>();
    private final List<RecordedExchange> exchanges = new CopyOnWriteArrayList<>();
    private final Deque<Integer> failures = new ArrayDeque<>();
    private volatile int replyTokens = DEFAULT_REPLY_TOKENS;
    private volatile int tokensPerChunk = 2;
    private volatile StreamPacer pacer = StreamPacer.fixed(Duration.ofMillis(15));
    private volatile String requiredApiKey;
    private volatile String modelHeader;
    private volatile java.util.function.Function<RecordedRequest, String> authorizer;
    private final LongAdder requests = new LongAdder();
    private final LongAdder completed = new LongAdder();
    private final LongAdder aborted = new LongAdder();
    private final LongAdder inputTokens = new LongAdder();
    private final LongAdder outputTokens = new LongAdder();

    private FakeProvider(HttpServer server) {
        this.server = server;
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-provider-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        for (ProviderApi api : List.of(new ChatCompletionsApi(), new ResponsesApi(), new MessagesApi(),
                new BedrockApi(), new VertexApi())) {
            apis.put(api.path(), api);
        }
        server.createContext("/", this::handle);
        server.createContext(TALLY_PATH, this::tally);
        server.setExecutor(executor);
    }

    /** Starts on 127.0.0.1 at {@code port} (0 picks a free one). */
    public static FakeProvider start(int port) {
        return start(port, null);
    }

    /**
     * Starts on 127.0.0.1 at {@code port} (0 picks a free one), speaking https with {@code tls}'s
     * certificate when it is not null, as the real providers do.
     */
    public static FakeProvider start(int port, SSLContext tls) {
        try {
            InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            HttpServer s;
            if (tls == null) {
                s = HttpServer.create(at, 64);
            } else {
                HttpsServer https = HttpsServer.create(at, 64);
                https.setHttpsConfigurator(new HttpsConfigurator(tls));
                s = https;
            }
            FakeProvider f = new FakeProvider(s);
            s.start();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on 127.0.0.1:" + port + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://127.0.0.1:PORT} ({@code https://} over TLS), without a trailing slash. */
    public String baseUrl() {
        return (server instanceof HttpsServer ? "https://" : "http://") + server.getAddress().getAddress().getHostAddress() + ":" + port();
    }

    /** {@code GET} this path for {@link #tally()} as JSON (not a provider path: nothing is recorded). */
    public static final String TALLY_PATH = "/fake/tally";

    /** Every request received so far, oldest first. */
    public List<RecordedExchange> exchanges() {
        return List.copyOf(exchanges);
    }

    public RecordedExchange lastExchange() {
        List<RecordedExchange> all = exchanges();
        if (all.isEmpty()) {
            throw new IllegalStateException("the fake provider has received no request");
        }
        return all.get(all.size() - 1);
    }

    /** Sum of the usage reported by every exchange that reported one. */
    public ReportedUsage totalReportedUsage() {
        long in = 0;
        long out = 0;
        for (RecordedExchange e : exchanges) {
            ReportedUsage u = e.usage().orElse(null);
            if (u != null) {
                in += u.inputTokens();
                out += u.outputTokens();
            }
        }
        return new ReportedUsage(in, out);
    }

    /** What was served and reported since the start or the last {@link #clear()}, however many exchanges that was. */
    public ProviderTally tally() {
        return new ProviderTally(requests.sum(), completed.sum(), aborted.sum(), inputTokens.sum(),
                outputTokens.sum());
    }

    public void clear() {
        exchanges.clear();
        for (LongAdder a : new LongAdder[] {requests, completed, aborted, inputTokens, outputTokens}) {
            a.reset();
        }
        synchronized (failures) {
            failures.clear();
        }
    }

    /** How many tokens the model answers when the request's ceiling allows (default 48). */
    public FakeProvider replyTokens(int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("replyTokens must be >= 1, was " + tokens);
        }
        this.replyTokens = tokens;
        return this;
    }

    /** How many tokens each streamed delta carries (default 2). */
    public FakeProvider tokensPerChunk(int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("tokensPerChunk must be >= 1, was " + tokens);
        }
        this.tokensPerChunk = tokens;
        return this;
    }

    /** When stream chunks go out (default: 15 ms apart). */
    public FakeProvider pacer(StreamPacer p) {
        this.pacer = Objects.requireNonNull(p, "pacer");
        return this;
    }

    /**
     * Requires this upstream credential ({@code Authorization: Bearer KEY} or {@code x-api-key:
     * KEY}); other requests get 401. Null accepts anything (the default).
     */
    public FakeProvider requireApiKey(String key) {
        this.requiredApiKey = key;
        return this;
    }

    /**
     * Answers with the model a request names in this header (when it names one) instead of the
     * body's, as an economy service that honours a gateway's degraded model does (the APISIX
     * adapter's {@code x-tokenbudget-degraded-model}). Null: the body's model (the default).
     */
    public FakeProvider serveModelFrom(String header) {
        this.modelHeader = header;
        return this;
    }

    /**
     * Checks each request's credential with {@code problem} (null when authorised, else why not;
     * e.g. a SigV4 verification), answering 403 with the provider's error otherwise. Null turns it off.
     */
    public FakeProvider requireAuthorization(java.util.function.Function<RecordedRequest, String> problem) {
        this.authorizer = problem;
        return this;
    }

    /** The next request is answered with this error status and a provider-shaped error body. */
    public FakeProvider failNext(int status) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("failNext needs an error status 400-599, was " + status);
        }
        synchronized (failures) {
            failures.add(status);
        }
        return this;
    }

    private void tally(HttpExchange ex) throws IOException {
        byte[] body = tally().json().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(ex.getRequestMethod().equals("GET") ? 200 : 405, body.length);
        try (var out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        RecordedExchange record;
        try (InputStream in = ex.getRequestBody()) {
            record = new RecordedExchange(recordOf(ex, in.readAllBytes()));
        }
        requests.increment();
        exchanges.add(record);
        while (exchanges.size() > MAX_EXCHANGES) {
            exchanges.remove(0);
        }
        try {
            respond(ex, record);
        } finally {
            count(record);
        }
    }

    private void count(RecordedExchange record) {
        (record.aborted() ? aborted : completed).increment();
        record.usage().ifPresent(u -> {
            inputTokens.add(u.inputTokens());
            outputTokens.add(u.outputTokens());
        });
    }

    private void respond(HttpExchange ex, RecordedExchange record) throws IOException {
        String path = ex.getRequestURI().getPath();
        ProviderApi api = apis.get(path);
        if (api == null) {
            api = apis.values().stream().filter(a -> a.matches(path)).findFirst().orElse(null);
        }
        StreamPacer p = pacer;
        Wire wire = new Wire(ex, record, p);
        try {
            if (api == null) {
                ProviderApi shape = ex.getRequestURI().getPath().contains("messages") ? apis.get("/v1/messages")
                        : apis.get("/v1/chat/completions");
                wire.json(404, shape.error(404, "not_found_error", "Unknown request URL: "
                        + ex.getRequestMethod() + " " + ex.getRequestURI().getPath()));
                record.markCompleted();
                return;
            }
            serve(api, ex, wire, record, p);
        } catch (IOException e) {
            // the client went away while we wrote: that is what a cancelled request looks like here
            record.markAborted();
        } catch (Wire.Broken e) {
            record.markAborted();
            // no close(): that would end the chunked body cleanly; an exception escaping the
            // handler makes the server drop the connection mid-response instead
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            record.markAborted();
        }
        ex.close();
    }

    private void serve(ProviderApi api, HttpExchange ex, Wire wire, RecordedExchange record, StreamPacer p)
            throws IOException, InterruptedException {
        Integer failure;
        synchronized (failures) {
            failure = failures.poll();
        }
        try {
            if (!ex.getRequestMethod().equals("POST")) {
                throw new ApiError(405, "invalid_request_error", "use POST for " + api.path());
            }
            if (!authorised(record.request())) {
                throw new ApiError(401, "authentication_error", "invalid x-api-key / Authorization");
            }
            java.util.function.Function<RecordedRequest, String> check = authorizer;
            String denied = check == null ? null : check.apply(record.request());
            if (denied != null) {
                throw new ApiError(403, "permission_error", denied);
            }
            if (failure != null) {
                throw new ApiError(failure, typeFor(failure), "injected failure " + failure);
            }
            JsonNode body = parse(record.request().body());
            String header = modelHeader;
            String model = header == null ? null : record.request().header(header);
            if (model != null && !model.isBlank()) {
                ((ObjectNode) body).put("model", model);
            }
            api.serve(body, wire, record, new ProviderApi.Tuning(replyTokens, tokensPerChunk, p));
        } catch (ApiError e) {
            api.errorHeaders(wire, e.status);
            wire.json(e.status, api.error(e.status, e.type, e.getMessage()));
        }
        record.markCompleted();
    }

    private static JsonNode parse(byte[] body) throws ApiError {
        try {
            JsonNode n = Wire.JSON.readTree(body);
            if (n == null || !n.isObject()) {
                throw ApiError.invalid("the request body must be a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw ApiError.invalid("could not parse the JSON body of your request: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiError.invalid("could not read the body of your request");
        }
    }

    private boolean authorised(RecordedRequest r) {
        String key = requiredApiKey;
        if (key == null) {
            return true;
        }
        return ("Bearer " + key).equals(r.header("authorization")) || key.equals(r.header("x-api-key"));
    }

    private static String typeFor(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 429 -> "rate_limit_error";
            case 529 -> "overloaded_error";
            default -> status >= 500 ? "api_error" : "invalid_request_error";
        };
    }

    private static RecordedRequest recordOf(HttpExchange ex, byte[] body) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), new ArrayList<>(v)));
        return new RecordedRequest(ex.getRequestMethod(), ex.getRequestURI().getPath(),
                ex.getRequestURI().getRawQuery(), headers, body, ex.getRequestURI().getRawPath());
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
