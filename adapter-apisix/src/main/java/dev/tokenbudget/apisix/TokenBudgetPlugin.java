package dev.tokenbudget.apisix;

import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.gateway.Admission;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.Identification;
import dev.tokenbudget.gateway.Identified;
import dev.tokenbudget.gateway.MeterResult;
import dev.tokenbudget.gateway.Reply;
import dev.tokenbudget.gateway.ResponseMeter;
import dev.tokenbudget.gateway.UpstreamSigner;
import dev.tokenbudget.provider.Provider;
import org.apache.apisix.plugin.runner.HttpRequest;
import org.apache.apisix.plugin.runner.HttpResponse;
import org.apache.apisix.plugin.runner.filter.PluginFilter;
import org.apache.apisix.plugin.runner.filter.PluginFilterChain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The TokenBudget plugin in one runner: parsed route confs, one gateway layer per engine-config
 * file, the requests admitted but not yet settled, and the settle endpoint where APISIX's
 * {@code http-logger} reports how each of them ended. The filter runs on the runner's event-loop
 * threads, the endpoint on its own; everything here is thread-safe.
 */
public final class TokenBudgetPlugin implements AutoCloseable {

    /** nginx's per-request unique id. */
    public static final String DEFAULT_CORRELATION_VAR = "request_id";
    /**
     * The request header the pre-request filter sets to the request's id (overwriting any value a
     * client sent), so that the {@code http-logger} entry of the request names its reservation.
     */
    public static final String REQUEST_ID_HEADER = "x-tokenbudget-request-id";
    /** Requests admitted and not yet settled that one runner keeps track of. */
    public static final int MAX_IN_FLIGHT = 100_000;
    /** How often leases of responses that never came are settled. */
    static final Duration SWEEP_PERIOD = Duration.ofSeconds(10);

    private static final Logger LOG = LoggerFactory.getLogger(TokenBudgetPlugin.class);
    private static final Pattern VAR = Pattern.compile("[a-z][a-z0-9_]{0,63}");

    private final RouteConfs confs = new RouteConfs();
    private final Gateways gateways;
    private final InFlight<Exchange> inFlight = new InFlight<>(MAX_IN_FLIGHT);
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private final String correlationVar;
    private final List<String> correlationVars;
    private final ScheduledExecutorService sweeper;
    private final SettleEndpoint settleEndpoint;
    private final RewriteExtras extras;

    /**
     * @param correlationVar the nginx variable naming a request ({@code request_id})
     * @param adminPort      port of the admin API and dashboard on 127.0.0.1 for the first engine
     *                       config loaded; -1 for none
     * @param settlePort     port of the settle endpoint on 127.0.0.1 (0 for a free one); -1 for none,
     *                       and then routes settle by estimate
     * @param settleSecret   what http-logger's {@code auth_header} carries after {@code Bearer }
         */
    public TokenBudgetPlugin(String correlationVar, int adminPort, int settlePort, String settleSecret) {
        this(correlationVar, adminPort, settlePort, settleSecret, Map.of());
    }

    /**
     * As {@link #TokenBudgetPlugin(String, int, int, String)}, with upstream signers (Bedrock SigV4,
     * Vertex access tokens) that replace those providers' {@code api_key_env} in every engine config.
     */
    public TokenBudgetPlugin(String correlationVar, int adminPort, int settlePort, String settleSecret,
                             Map<Provider, UpstreamSigner> signers) {
        this(correlationVar, adminPort, settlePort, settleSecret, signers, new RewriteExtras());
    }

    /**
     * As {@link #TokenBudgetPlugin(String, int, int, String, Map)}, with the extras an extended
     * runner writes ({@link ExtendedApplicationRunner}): once it is installed, admitted requests go
     * upstream with the engine's body (cheaper model, output ceiling, {@code include_usage}) and
     * reach the client with the decision headers.
     */
    TokenBudgetPlugin(String correlationVar, int adminPort, int settlePort, String settleSecret,
                      Map<Provider, UpstreamSigner> signers, RewriteExtras extras) {
        this.extras = extras;
        this.gateways = new Gateways(adminPort, signers, extras::installed);
        if (correlationVar == null || !VAR.matcher(correlationVar).matches()) {
            throw new IllegalArgumentException("tokenbudget.apisix.correlation-var must be an nginx variable name "
                    + "(a-z, 0-9, _), was \"" + correlationVar + "\"");
        }
        this.correlationVar = correlationVar;
        this.correlationVars = List.of(correlationVar);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tokenbudget-leases");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(this::sweepSafely, SWEEP_PERIOD.toMillis(), SWEEP_PERIOD.toMillis(),
                TimeUnit.MILLISECONDS);
        this.settleEndpoint = settlePort < 0 ? null : startSettleEndpoint(settlePort, settleSecret);
    }

    /** The settle endpoint, or null (and an error in the log) when it cannot start: routes then settle by estimate. */
    private SettleEndpoint startSettleEndpoint(int port, String secret) {
        try {
            SettleEndpoint e = SettleEndpoint.start(port, secret, this::settle);
            LOG.info("tokenbudget settle endpoint on http://127.0.0.1:{}{}", e.port(), SettleEndpoint.PATH);
            return e;
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            LOG.error("tokenbudget settle endpoint not started: {}; requests are settled by estimate (their "
                    + "reservation) until it is", e.getMessage());
            return null;
        }
    }

    /** The settle endpoint's port, or -1 when it is off. */
    int settlePort() {
        return settleEndpoint == null ? -1 : settleEndpoint.port();
    }

    /** The variables the filter asks APISIX for. */
    List<String> correlationVars() {
        return correlationVars;
    }

    /** Validates a route's conf and loads its engine when APISIX prepares the route; logs what is wrong. */
    void prepare(String filterName, String value) {
        RouteConf conf;
        try {
            conf = confs.get(value);
        } catch (ConfigException e) {
            reportOnce(filterName, value, e);
            return;
        }
        try {
            gateways.get(conf.config());
        } catch (ConfigException e) {
            reportOnce(filterName, conf.config().toString(), e);
        }
    }

    /** The pre-request phase: identify, admit, and answer or forward. */
    void admit(HttpRequest request, HttpResponse response, PluginFilterChain chain, PluginFilter filter) {
        String value = request.getConfig(filter);
        RouteConf conf;
        BudgetGateway gateway;
        try {
            conf = confs.get(value);
        } catch (ConfigException e) {
            reportOnce(filter.name(), value, e);
            Replies.misconfigured(response, e, true);
            return;
        }
        try {
            gateway = gateways.get(conf.config());
        } catch (ConfigException e) {
            reportOnce(filter.name(), conf.config().toString(), e);
            Replies.misconfigured(response, e, false);
            return;
        }
        ApisixRequestView view = new ApisixRequestView(request, aliases(conf, gateway.engine().config()));
        Identification identification = gateway.identify(view, conf.provider());
        if (identification instanceof Reply r) {
            Replies.send(response, r);
            return;
        }
        byte[] body = RunnerBodies.request(request);
        Admission admission = gateway.admit((Identified) identification, body);
        if (admission instanceof Reply r) {
            Replies.send(response, r);
            return;
        }
        Forward forward = (Forward) admission;
        boolean extended = extras.installed();
        byte[] sent = extended && forward.body() != null ? forward.body() : body;
        UpstreamRewrite.apply(forward, request);
        try {
            UpstreamSignature.apply(forward, conf, request, sent);
        } catch (RuntimeException e) {
            // no credentials, or a Bedrock route without "upstream": released, 500 in the provider's shape
            Replies.send(response, gateway.signFailure(forward, e));
            return;
        }
        String id = request.getVars(correlationVar);
        boolean hasId = id != null && !id.isEmpty();
        if (hasId) {
            request.setHeader(REQUEST_ID_HEADER, id); // a client's own value never names a reservation
        } else if (request.getHeaders().keySet().stream().anyMatch(REQUEST_ID_HEADER::equalsIgnoreCase)) {
            request.setHeader(REQUEST_ID_HEADER, null);
        }
        track(hasId ? id : null, conf, gateway, forward);
        if (extended) {
            // before the chain goes on: from runner 0.5 on, its end writes the response
            extras.put(response, forward.body(), forward.responseHeaders());
        }
        chain.filter(request, response);
    }

    /** Keeps the reservation for its logged response, or settles it now when none will come. */
    private void track(String id, RouteConf conf, BudgetGateway gateway, Forward forward) {
        if (forward.ticket() == null || !forward.ticket().holdsLease()) {
            return; // unmetered endpoint, or a rejected request
        }
        Exchange exchange = new Exchange(gateway.engine(), forward.ticket(), forward.meter());
        if (conf.settle() == RouteConf.Settle.ESTIMATE) {
            exchange.settleByEstimate();
            return;
        }
        if (settleEndpoint == null) {
            warnOnce("nosettle", "a route settles from the response but the settle endpoint is off "
                    + "(-Dtokenbudget.apisix.settle-port); its requests are settled by estimate");
            exchange.settleByEstimate();
            return;
        }
        if (id == null) {
            warnOnce("novar", "nginx variable ${} is empty, so responses cannot be matched to their requests; "
                    + "requests are settled by estimate", correlationVar);
            exchange.settleByEstimate();
            return;
        }
        if (!inFlight.put(id, exchange, forward.ticket().leaseExpiresAt())) {
            warnOnce("full", "cannot track request {} for its response (duplicate ${} or {} requests in flight); "
                    + "settled by estimate", id, correlationVar, inFlight.size());
            exchange.settleByEstimate();
        }
    }

    /**
     * A request's logged end (APISIX's {@code http-logger} through the settle endpoint): meters the
     * body the client got with the status it got and settles. Finds nothing for a request settled
     * already (a retried entry, a lease that expired first) and does nothing then.
     */
    void settle(LoggedResponse logged) {
        Exchange exchange = inFlight.take(logged.requestId());
        if (exchange == null) {
            return;
        }
        ResponseMeter meter = exchange.meter();
        meter.onResponseHeaders(logged.status() < 0 ? ResponseMeter.STATUS_UNKNOWN : logged.status(),
                logged.contentType(), logged::header);
        meter.onBytes(logged.body(), 0, logged.body().length);
        MeterResult result = meter.complete();
        if (LOG.isDebugEnabled()) {
            LOG.debug("request {} settled: {}", logged.requestId(), result);
        }
    }

    /** TokenBudget named in ext-plugin-post-resp: nothing to do there; says once why it should go. */
    void misplaced(PluginFilter filter) {
        warnOnce("misplaced:" + filter.name(), "{} is named in ext-plugin-post-resp: remove it from there (that "
                + "plugin buffers whole responses and drops their Content-Type); requests are settled from "
                + "http-logger entries", filter.name());
    }

    /**
     * Settles every tracked request whose lease ran out before its logged response came (the entry
     * was lost: the logger's retries ran out, APISIX stopped, the route has no http-logger), at the
     * reservation and once; then lets each engine expire
     * its leases. Runs every {@link #SWEEP_PERIOD}; returns how many tracked requests it settled.
     */
    int sweep(Instant now) {
        int n = inFlight.expire(now, Exchange::settleByEstimate);
        for (BudgetGateway g : gateways.all()) {
            g.engine().expireLeases();
        }
        return n;
    }

    private void sweepSafely() {
        try {
            sweep(Instant.now());
        } catch (RuntimeException e) {
            LOG.warn("settling expired reservations failed; retrying in {}", SWEEP_PERIOD, e);
        }
    }

    /** Requests admitted and waiting for their response. */
    int inFlight() {
        return inFlight.size();
    }

    /** The engine serving {@code config} (loading it if needed), for status reads. */
    BudgetGateway gateway(java.nio.file.Path config) {
        return gateways.get(config);
    }

    private static Map<String, String> aliases(RouteConf conf, EngineConfig config) {
        if (conf.featureHeader() == null && conf.userHeader() == null) {
            return Map.of();
        }
        Map<String, String> m = new HashMap<>();
        if (conf.featureHeader() != null) {
            m.put(config.featureHeader().toLowerCase(Locale.ROOT), conf.featureHeader());
        }
        if (conf.userHeader() != null) {
            m.put(config.userHeader().toLowerCase(Locale.ROOT), conf.userHeader());
        }
        return m;
    }

    private void reportOnce(String filterName, String what, ConfigException e) {
        if (reported.add(filterName + '\u0000' + what)) {
            LOG.error("{}: {} is invalid: {}", filterName, what, e.getMessage());
        }
    }

    private void warnOnce(String key, String format, Object... args) {
        if (reported.add(key)) {
            LOG.warn(format, args);
        }
    }

    /** Settles what is still in flight by estimate (never lost, never undercounted) and closes the engines. */
    @Override
    public void close() {
        if (settleEndpoint != null) {
            settleEndpoint.close();
        }
        sweeper.shutdownNow();
        inFlight.drain(Exchange::settleByEstimate);
        gateways.close();
    }
}
