package dev.tokenbudget.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.DecisionHeaders;
import dev.tokenbudget.engine.RouteDirective;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.estimate.TokenizerEstimator;
import dev.tokenbudget.estimate.InputEstimator;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.provider.BodyBytes;
import dev.tokenbudget.provider.BodyChange;
import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.Provider;
import dev.tokenbudget.provider.ProviderCodec;
import dev.tokenbudget.provider.RequestFacts;
import dev.tokenbudget.provider.RequestJson;
import dev.tokenbudget.provider.RequestScan;
import dev.tokenbudget.routing.UpstreamLimiter;
import dev.tokenbudget.routing.UpstreamLimiters;
import dev.tokenbudget.routing.UpstreamSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Everything the gateway adapters share: identify a request from its headers, admit it once its
 * body is read, meter its response. An adapter only translates its gateway's types:
 *
 * <pre>
 *   switch (gateway.identify(view)) {
 *     case Reply r -> answer(r);                                   // 401
 *     case Identified id -> switch (gateway.admit(id, body)) {     // body read with maxBodyBytes
 *       case Reply r -> answer(r);                                 // 400, 413, 429, 403, 503
 *       case Forward f -> send(f); then f.meter(): onResponseHeaders, onBytes..., complete() | abort()
 *     }
 *   }
 * </pre>
 *
 * Two phases because Envoy's external processor sees the headers before the body. Thread-safe.
 */
public final class BudgetGateway {

    private static final Logger LOG = LoggerFactory.getLogger(BudgetGateway.class);

    /** Headers that can carry a virtual key; all are removed before a request goes upstream. */
    public static final List<String> KEY_HEADERS = List.of("authorization", "x-api-key", "x-goog-api-key", "api-key");

    /**
     * Headers removed from a metered request: the key headers, and {@code accept-encoding}, since
     * usage can only be read from an uncompressed response (SDKs ask for gzip, and providers'
     * edges then compress JSON); the client receives the response uncompressed.
     */
    public static final List<String> METERED_REMOVE_HEADERS = List.of("authorization", "x-api-key", "x-goog-api-key",
            "api-key", "accept-encoding", DecisionHeaders.ROUTE, DecisionHeaders.CACHE_TTL);

    /**
     * Routing directives only the engine may set: a client's own {@code x-tokenbudget-route} or
     * cache-TTL directive is removed from every forwarded request (a degraded one gets the
     * engine's back through {@link Forward#setHeaders()}).
     */
    public static final List<String> DIRECTIVE_HEADERS = List.of(DecisionHeaders.ROUTE, DecisionHeaders.CACHE_TTL);

    private static final List<String> UNMETERED_REMOVE_HEADERS = List.of("authorization", "x-api-key",
            "x-goog-api-key", "api-key", DecisionHeaders.ROUTE, DecisionHeaders.CACHE_TTL);

    private final BudgetEngine engine;
    private final UpstreamLimiters upstreams;
    private final GatewayOptions options;
    private final InputEstimator estimator;
    private final RegisteredPrompts prompts;
    private final UpstreamCredentials credentials;

    /**
     * A gateway; without an estimator in the options it uses {@link TokenizerEstimator#shared()} (loaded now).
     *
     * @throws IllegalArgumentException when a degrade spec's {@code prompt_variants} names a prompt that
     *         neither the config's {@code prompts:} nor the options register, or both register one id with
     *         different texts
     */
    public BudgetGateway(BudgetEngine engine, GatewayOptions options) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.options = Objects.requireNonNull(options, "options");
        this.prompts = new RegisteredPrompts(engine.config(), options);
        this.credentials = new UpstreamCredentials(engine.config(), options, engine.clock());
        this.estimator = options.estimator() != null ? options.estimator() : TokenizerEstimator.shared();
        List<UpstreamSpec> specs = engine.config().upstreams();
        this.upstreams = specs.isEmpty() ? null : new UpstreamLimiters(specs, engine.clock(), GatewayTimer.shared());
    }

    public BudgetEngine engine() {
        return engine;
    }

    public GatewayOptions options() {
        return options;
    }

    /** Identifies a request from its method, path and headers, detecting the provider from the path. */
    public Identification identify(RequestView req) {
        return identify(req, null);
    }

    /**
     * Identifies a request; {@code provider}, when not null, is the route's provider and wins over
     * what the path suggests (e.g. an OpenAI-compatible server).
     */
    public Identification identify(RequestView req, Provider provider) {
        String path = req.path() == null || req.path().isEmpty() ? "/" : req.path();
        Route route = Route.of(req.method(), path, provider);
        Family errors = ErrorReplies.family(route);
        KeyLocation found = KeyLocation.find(req, route, path);
        if (found == null) {
            return ErrorReplies.of(errors, 401, "invalid_api_key", "missing API key: send your tokenbudget virtual "
                    + "key as " + KeyLocation.hint(route.provider()));
        }
        Optional<VirtualKey> key = engine.authenticate(found.secret());
        if (key.isEmpty()) {
            return ErrorReplies.of(errors, 401, "invalid_api_key", "invalid API key: the key in " + found.where()
                    + " is not a tokenbudget virtual key known to this gateway");
        }
        if (!route.known() && !options.forwardUnknownPosts()) {
            return ErrorReplies.of(errors, 404, "unknown_endpoint", "tokenbudget cannot meter POST "
                    + stripQuery(path) + ": it is not a chat, responses, embeddings, messages, generateContent, "
                    + "Bedrock converse / invoke or Vertex rawPredict endpoint");
        }
        UpstreamCredentials.Credential credential = credentials.of(route.provider());
        if (credential.missingEnv() != null) {
            LOG.error("upstream key for provider '{}' is missing: environment variable {} is not set",
                    route.provider().configName(), credential.missingEnv());
            return ErrorReplies.of(errors, 500, "upstream_key_missing", "the gateway has no upstream key for "
                    + "provider '" + route.provider().configName() + "': its environment variable is not set");
        }
        EngineConfig cfg = engine.config();
        return new Identified(key.get(), route, trimToNull(req.header(cfg.featureHeader())),
                trimToNull(req.header(cfg.userHeader())), path, found.upstreamPath(), credential.value());
    }

    /**
     * The 413 reply for a body over {@link GatewayOptions#maxBodyBytes()}, for adapters that stop
     * reading at the bound (from {@code content-length} or mid-read) instead of calling {@link #admit}.
     */
    public Reply tooLarge(Identified id) {
        return ErrorReplies.of(ErrorReplies.family(id.route()), 413, "request_too_large", "the request body exceeds this gateway's "
                + "limit of " + options.maxBodyBytes() + " bytes");
    }

    /**
     * Admits a request with its whole body (null or empty for a request without one): checks the
     * bound, parses, estimates, reserves, waits for room in a configured upstream quota (at most
     * its {@code max_wait}), and says how to forward it or what to answer. Blocks while it waits
     * for the upstream quota: reactive hosts call {@link #admitAsync} instead.
     */
    public Admission admit(Identified id, byte[] body) {
        return admit(id, BodyBytes.of(body), null, false).toCompletableFuture().join();
    }

    /**
     * {@link #admit} without blocking: the reservation goes through {@link BudgetEngine#reserveAsync}
     * (on a store with {@code ASYNC_DECISIONS}, such as Redis, no thread waits for it, and the stage
     * may complete on the store's I/O thread: what the host chains to it must not block), and the
     * stage completes when the upstream quota grants or refuses.
     */
    public CompletionStage<Admission> admitAsync(Identified id, byte[] body) {
        return admit(id, BodyBytes.of(body), null, true);
    }

    /**
     * {@link #admitAsync(Identified, byte[])} for a host that must answer within a bound of its own
     * (Envoy's per-message timeout): the stage completes at most {@code answerWithin} after this
     * call (estimating and the reservation included), refusing with 429 and {@code Retry-After} a
     * request the upstream quota cannot take by then, however long the quota's {@code max_wait}.
     * As there, nothing blocks on the store, and the stage may complete on the store's I/O thread
     * or the quota's timer: a host whose continuation may block moves it to its own threads. The
     * array is not copied: the host does not change it afterwards. Null bound: none of its own.
     */
    public CompletionStage<Admission> admitAsync(Identified id, byte[] body, Duration answerWithin) {
        return admit(id, BodyBytes.of(body), answerWithin, true);
    }

    /**
     * {@link #admitAsync(Identified, byte[])} with the body as the host holds it (its buffers, read
     * in place). The host's view need only stay readable until this returns: when the reservation
     * is still on its way then (a store with {@code ASYNC_DECISIONS}), the body is copied for a
     * rewrite that may follow. The host forwards its buffers unchanged when {@link Forward#body()}
     * is null.
     */
    public CompletionStage<Admission> admitAsync(Identified id, BodyBytes body) {
        return admit(id, body, null, true);
    }

    private CompletionStage<Admission> admit(Identified id, BodyBytes body, Duration answerWithin, boolean async) {
        long started = engine.clock().nanoTime();
        return reserveAndPlan(id, body, async).thenCompose(a -> upstreamQuota(id, a, answerWithin, started));
    }

    private CompletionStage<Admission> upstreamQuota(Identified id, Admission a, Duration answerWithin, long started) {
        if (upstreams == null || !(a instanceof Forward f) || f.ticket() == null || !f.ticket().accounted()) {
            return CompletableFuture.completedFuture(a);
        }
        Optional<UpstreamLimiter> found = upstreams.forRequest(f.provider().configName(), f.model());
        if (found.isEmpty()) {
            return CompletableFuture.completedFuture(a);
        }
        UpstreamLimiter limiter = found.get();
        Ticket t = f.ticket();
        CompletableFuture<UpstreamLimiter.Permit> permit = answerWithin == null
                ? limiter.acquire(id.key().budget(), t.reservedInput(), t.reservedOutput())
                : limiter.acquire(id.key().budget(), t.reservedInput(), t.reservedOutput(),
                        answerWithin.minusNanos(engine.clock().nanoTime() - started));
        return permit.thenApply(p -> {
            if (p.granted()) {
                f.meter().bindUpstream(limiter, p);
                return f;
            }
            engine.releaseAsync(t);
            return ErrorReplies.of(ErrorReplies.family(id.route()), 429, Map.of("Retry-After", Long.toString(p.retryAfterSeconds())),
                    "upstream_quota_exhausted", "the upstream quota '" + limiter.name() + "' has no room for this "
                            + "request now; retry after " + p.retryAfterSeconds() + " s");
        });
    }

    /**
     * The answer when {@link Forward#sign} failed (no AWS credentials, a Google token that cannot be
     * refreshed): the reservation is released, since nothing went upstream, and the client gets a
     * 500 shaped like the provider's errors; the cause is logged, never sent.
     */
    public Reply signFailure(Forward f, RuntimeException cause) {
        f.meter().abort();
        LOG.error("signing the upstream request to {} failed; reservation released", f.provider().configName(), cause);
        return ErrorReplies.of(ErrorReplies.family(f.provider(), f.endpoint()), 500, "upstream_credentials_unavailable",
                "the gateway could not obtain credentials for provider '" + f.provider().configName() + "'");
    }

    /** The upstream quota a request to {@code provider}'s {@code model} draws on, if one is configured. */
    public Optional<UpstreamLimiter> upstream(String provider, String model) {
        return upstreams == null ? Optional.empty() : upstreams.forRequest(provider, model);
    }

    private CompletionStage<Admission> reserveAndPlan(Identified id, BodyBytes body, boolean async) {
        Route route = id.route();
        Family errors = ErrorReplies.family(route);
        if (body.length() > options.maxBodyBytes()) {
            return CompletableFuture.completedFuture(tooLarge(id));
        }
        if (route.endpoint() == Endpoint.UNMETERED) {
            return CompletableFuture.completedFuture(forward(id, null, null, null, false, null, null, Map.of()));
        }
        Family family = route.endpoint().family();
        ProviderCodec codec = ProviderCodec.of(family);
        RequestScan.Result read = RequestScan.read(codec, route.endpoint(), body);
        if (read.jsonProblem() != null) {
            return CompletableFuture.completedFuture(ErrorReplies.of(errors, 400, "invalid_json", read.jsonProblem()));
        }
        RequestFacts facts = read.facts();
        if (!facts.valid()) {
            return CompletableFuture.completedFuture(ErrorReplies.of(errors, 400, "invalid_request", facts.problem()));
        }
        String model = facts.model() != null ? facts.model() : route.pathModel();
        long input = estimator.inputTokens(family, model, facts.prompt());
        long output = outputCeiling(route.endpoint(), facts, model);
        // a degrade clamp is one ceiling per choice: only a one-choice request is held to it as a whole
        boolean held = options.rewritesBodies() && facts.choices() == 1;
        BudgetRequest request = new BudgetRequest(id.key(), id.feature(), id.user(), model, input, output, held);
        if (!async) {
            return CompletableFuture.completedFuture(reserved(id, engine.reserve(request), codec, body, read, facts,
                    model));
        }
        CompletableFuture<Ticket> reserving = engine.reserveAsync(request).toCompletableFuture();
        // the host's view of its buffers ends when this returns: a reservation still on its way
        // (Redis) gets its own copy of the body for the rewrite that may follow
        BodyBytes kept = reserving.isDone() ? body : BodyBytes.of(body.toArray());
        return reserving.thenApply(ticket -> reserved(id, ticket, codec, kept, read, facts, model));
    }

    private Admission reserved(Identified id, Ticket ticket, ProviderCodec codec, BodyBytes body,
                               RequestScan.Result read, RequestFacts facts, String model) {
        Family errors = ErrorReplies.family(id.route());
        Decision d = ticket.decision();
        if (!d.admitted()) {
            return ErrorReplies.of(errors, d.httpStatus(), DecisionHeaders.forResponse(d), d.reason().code(),
                    d.message());
        }
        try {
            return admitted(id, ticket, codec, body, read, facts, model);
        } catch (RuntimeException e) {
            engine.releaseAsync(ticket);
            LOG.error("admitting request of key {} failed after reserving; released", id.key().name(), e);
            return ErrorReplies.of(errors, 500, "internal_error", "tokenbudget failed to prepare the request");
        }
    }

    private Admission admitted(Identified id, Ticket ticket, ProviderCodec codec, BodyBytes body,
                               RequestScan.Result read, RequestFacts facts, String model) {
        Route route = id.route();
        RouteDirective dir = ticket.decision().outcome() == Decision.Outcome.DEGRADE ? ticket.decision().directive()
                : null;
        boolean askUsage = options.requestStreamUsage() && facts.stream() && !facts.streamUsage()
                && codec.family() == Family.OPENAI;
        String newModel = dir == null || dir.model() == null || dir.model().equals(model) ? null : dir.model();
        BodyChange change = new BodyChange(newModel, dir == null ? -1 : dir.maxOutputTokens(),
                dir == null ? Map.of() : prompts.swaps(dir), askUsage);
        byte[] newBody = null;
        if (!change.isEmpty()) {
            // a change the codec can splice into the client's bytes (include_usage) needs no tree; any
            // other is made on a tree of the body, parsed for it, and the body written anew
            newBody = codec.splice(route.endpoint(), read.fields(), body, change);
            if (newBody == null) {
                ObjectNode json = read.tree() != null ? read.tree() : RequestJson.parse(body.toArray()).body();
                if (codec.rewrite(route.endpoint(), route.provider(), json, change)) {
                    newBody = RequestJson.write(json);
                }
            }
        }
        String path = id.upstreamPath();
        if (newModel != null && route.pathModel() != null) {
            path = route.withModel(path, newModel);
        }
        return forward(id, ticket, newBody, path.equals(id.path()) ? null : path, facts.stream(),
                newModel != null ? newModel : model, codec.family(), DecisionHeaders.forUpstream(ticket.decision()));
    }

    private Forward forward(Identified id, Ticket ticket, byte[] body, String path, boolean stream, String model,
                            Family family, Map<String, String> directive) {
        Map<String, String> set = new LinkedHashMap<>();
        if (id.credential() != null) {
            set.put(id.provider().credentialHeader(), id.provider().credentialValue(id.credential()));
        }
        set.putAll(directive);
        String p = path;
        if (ticket == null && !id.upstreamPath().equals(id.path())) {
            p = id.upstreamPath();
        }
        Map<String, String> response = ticket == null ? Map.of()
                : HeaderMaps.handOver(DecisionHeaders.forResponse(ticket.decision()));
        ResponseMeter meter = new ResponseMeter(engine, ticket, family, id.endpoint());
        return new Forward(ticket, id.provider(), id.endpoint(), model, stream, body, p,
                ticket == null ? UNMETERED_REMOVE_HEADERS : METERED_REMOVE_HEADERS, HeaderMaps.handOver(set), response,
                meter, options.upstreamSigners().get(id.provider()));
    }

    private long outputCeiling(Endpoint e, RequestFacts facts, String model) {
        if (!e.generatesOutput()) {
            return 0;
        }
        long perChoice = facts.maxOutputTokens() >= 0 ? facts.maxOutputTokens()
                : engine.config().outputTokensFor(model);
        long total = perChoice * facts.choices();
        return total < 0 || total / facts.choices() != perChoice ? Long.MAX_VALUE / 4 : total;
    }

    private static String stripQuery(String path) {
        int q = path.indexOf('?');
        return q < 0 ? path : path.substring(0, q);
    }

    private static String trimToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
