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
import org.apache.apisix.plugin.runner.HttpRequest;
import org.apache.apisix.plugin.runner.HttpResponse;
import org.apache.apisix.plugin.runner.PostRequest;
import org.apache.apisix.plugin.runner.PostResponse;
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
 * What the two TokenBudget filters share in one runner: parsed route confs, one gateway layer per
 * engine-config file, and the requests admitted but not yet settled. The filters run on the
 * runner's event-loop threads; everything here is thread-safe.
 */
public final class TokenBudgetPlugin implements AutoCloseable {

    /** nginx's per-request unique id: the same in both phases of one request. */
    public static final String DEFAULT_CORRELATION_VAR = "request_id";
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

    /**
     * @param correlationVar the nginx variable naming a request in both phases ({@code request_id})
     */
    public TokenBudgetPlugin(String correlationVar) {
        this(correlationVar, -1);
    }

    /**
     * @param correlationVar the nginx variable naming a request in both phases ({@code request_id})
     * @param adminPort      port of the admin API and dashboard on 127.0.0.1 for the first engine
     *                       config loaded; -1 for none
     */
    public TokenBudgetPlugin(String correlationVar, int adminPort) {
        this.gateways = new Gateways(adminPort);
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
    }

    /** The variables both filters ask APISIX for. */
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
        Admission admission = gateway.admit((Identified) identification, RunnerBodies.request(request));
        if (admission instanceof Reply r) {
            Replies.send(response, r);
            return;
        }
        Forward forward = (Forward) admission;
        UpstreamRewrite.apply(forward, request);
        track(request, conf, gateway, forward);
        chain.filter(request, response);
    }

    /** Keeps the reservation for the response phase, or settles it now when that phase will not see it. */
    private void track(HttpRequest request, RouteConf conf, BudgetGateway gateway, Forward forward) {
        if (forward.ticket() == null || !forward.ticket().accounted()) {
            return; // unmetered endpoint, or admitted uncounted while the store fails open
        }
        Exchange exchange = new Exchange(gateway.engine(), forward.ticket(), forward.meter());
        if (conf.settle() == RouteConf.Settle.ESTIMATE) {
            exchange.settleByEstimate();
            return;
        }
        String id = request.getVars(correlationVar);
        if (id == null || id.isEmpty()) {
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

    /** The post-response phase: meter the upstream body and settle. */
    void settle(PostRequest request, PostResponse response, PluginFilterChain chain, PluginFilter filter) {
        Exchange exchange = inFlight.take(request.getVars(correlationVar));
        if (exchange != null) {
            ResponseMeter meter = exchange.meter();
            // APISIX buffered the whole upstream response; its status and headers are not reliably
            // readable here (runner 0.4.0 reads them from a released buffer), the body is
            meter.onResponseHeaders(ResponseMeter.STATUS_UNKNOWN, null);
            byte[] body = RunnerBodies.response(request);
            meter.onBytes(body, 0, body.length);
            MeterResult result = meter.complete();
            if (LOG.isDebugEnabled()) {
                LOG.debug("request {} settled: {}", request.getVars(correlationVar), result);
            }
        }
        chain.postFilter(request, response);
    }

    /** TokenBudget named in ext-plugin-post-resp: no body was asked for, so settle by estimate. */
    void settleWithoutBody(PostRequest request, PostResponse response, PluginFilterChain chain, PluginFilter filter) {
        warnOnce("misplaced:" + filter.name(), "{} is named in ext-plugin-post-resp; name {} there so that usage is "
                + "read from the response (its requests are settled by estimate meanwhile)", filter.name(),
                TokenBudgetFilter.SETTLE_NAME);
        Exchange exchange = inFlight.take(request.getVars(correlationVar));
        if (exchange != null) {
            exchange.settleByEstimate();
        }
        chain.postFilter(request, response);
    }

    /** TokenBudgetSettle named in ext-plugin-pre-req: refuse rather than forward unbudgeted. */
    void misplaced(HttpResponse response, PluginFilter filter) {
        if (reported.add("misplaced:" + filter.name())) {
            LOG.error("{} is named in ext-plugin-pre-req; name {} there (and {} in ext-plugin-post-resp)",
                    filter.name(), TokenBudgetFilter.NAME, TokenBudgetFilter.SETTLE_NAME);
        }
        Replies.stop(response, 500, "{\"error\":{\"type\":\"tokenbudget_misconfigured\",\"message\":"
                + Json.quote(filter.name() + " belongs in ext-plugin-post-resp; ext-plugin-pre-req needs "
                + TokenBudgetFilter.NAME) + "}}");
    }

    /**
     * Settles every tracked request whose lease ran out before its response came (the upstream
     * failed, the route has no post-response plugin, APISIX gave up), then lets each engine expire
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
        sweeper.shutdownNow();
        inFlight.drain(Exchange::settleByEstimate);
        gateways.close();
    }
}
