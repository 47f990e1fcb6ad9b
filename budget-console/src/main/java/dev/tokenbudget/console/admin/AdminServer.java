package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.event.EventLog;
import dev.tokenbudget.forecast.UsageHistory;
import dev.tokenbudget.ledger.Ledger;
import dev.tokenbudget.store.BudgetStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The admin HTTP API and the burn-down dashboard of one engine, on the JDK's HTTP server: the one
 * implementation every host (the Spring Cloud Gateway quickstart, the Envoy ext_proc server, the
 * APISIX plugin) embeds. Bound to 127.0.0.1 by default; every {@code /v1/} route needs the bearer
 * token. A host starts it and closes it:
 *
 * <pre>
 *   AdminServer admin = AdminServer.builder(engine).tokenFromEnvironment().port(8081).start();
 *   ...
 *   admin.close();
 * </pre>
 *
 * Besides serving, it keeps the engine's recent events ({@link EventLog}, subscribed on start),
 * samples every budget's usage at an interval for the burn-down charts (the engine keeps counters,
 * not history; see {@link BurnHistory}) and, on a shared store, applies the limit changes other
 * instances made ({@code engine.syncLimits()}, every second).
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8081;
    public static final Duration DEFAULT_SAMPLE_INTERVAL = Duration.ofMinutes(1);
    public static final int DEFAULT_HISTORY_POINTS = 720;
    public static final Duration DEFAULT_LIMITS_SYNC_INTERVAL = Duration.ofSeconds(1);

    private final BudgetEngine engine;
    private final EventLog events;
    private final boolean ownEvents;
    private final Ledger ledger;
    private final BurnHistory history;
    private final UsageHistory usage;
    private final Duration sampleInterval;
    private final Duration limitsSyncInterval;
    private final Routes routes;
    private final HttpServer http;
    private final ExecutorService workers;
    private ScheduledExecutorService sampler;

    private AdminServer(Builder b) throws IOException {
        this.engine = b.engine;
        this.ownEvents = b.events == null;
        this.events = ownEvents ? new EventLog() : b.events;
        // the engine's ledger is the store's: rebalances and holds are there, and every instance shares it
        this.ledger = b.ledger != null ? b.ledger : engine.ledger();
        this.history = new BurnHistory(b.historyPoints);
        // forecasts read the history the engine records next to its store (shared on Redis)
        this.usage = b.usage != null ? b.usage : engine.history();
        ForecastSource forecasts = b.forecasts != null ? b.forecasts : new HistoryForecasts(engine, usage);
        this.sampleInterval = b.sampleInterval;
        // only engines sharing a store can miss a change made elsewhere
        this.limitsSyncInterval = engine.store().capabilities().contains(BudgetStore.Capability.SHARED)
                ? b.limitsSyncInterval : Duration.ZERO;
        ObjectMapper json = Json.mapper();
        BudgetViews views = new BudgetViews(engine, forecasts, json);
        BudgetsApi budgets = new BudgetsApi(engine, views, history, sampleInterval, ledger, json);
        this.routes = new Routes();
        budgets.register(routes);
        ReservationService reservations = b.reservations != null ? b.reservations
                : engine.allocates() ? new EngineReservations(engine) : null;
        new ReservationsApi(engine, reservations, budgets, ledger, json).register(routes);
        new ActivityApi(events, ledger, new EventViews(json, views), json).register(routes);
        JsonNode openApi = openApi(json);
        routes.add("GET", "/v1/openapi.json", r -> Routes.Reply.ok(openApi));
        this.http = HttpServer.create(new InetSocketAddress(InetAddress.getByName(b.host), b.port), 16);
        this.workers = Executors.newFixedThreadPool(2, daemon("tokenbudget-admin"));
        http.setExecutor(workers);
        http.createContext("/", new AdminHandler(b.token, routes, new Dashboard(), json));
        if (!http.getAddress().getAddress().isLoopbackAddress()) {
            LOG.warn("the admin API listens on {}, beyond loopback: anyone who can reach it and holds the token can "
                    + "change limits", http.getAddress());
        }
    }

    public static Builder builder(BudgetEngine engine) {
        return new Builder(engine);
    }

    /** Starts serving and sampling; returns this. */
    public synchronized AdminServer start() {
        if (ownEvents) {
            engine.subscribe(events);
        }
        sample();
        if (!sampleInterval.isZero() || !limitsSyncInterval.isZero()) {
            sampler = Executors.newSingleThreadScheduledExecutor(daemon("tokenbudget-admin-sampler"));
        }
        if (!sampleInterval.isZero()) {
            long ms = sampleInterval.toMillis();
            sampler.scheduleAtFixedRate(this::sample, ms, ms, TimeUnit.MILLISECONDS);
        }
        if (!limitsSyncInterval.isZero()) {
            long ms = limitsSyncInterval.toMillis();
            sampler.scheduleWithFixedDelay(this::syncLimits, ms, ms, TimeUnit.MILLISECONDS);
        }
        http.start();
        LOG.info("tokenbudget admin API and dashboard on {}", uri());
        return this;
    }

    /**
     * Records every budget's usage now for the burn-down charts and the forecasts' history (the
     * sampler calls this at its interval; call it yourself with a zero interval).
     */
    public synchronized void sample() {
        try {
            history.sample(engine.status(), engine.clock().now());
        } catch (RuntimeException e) {
            // the store may be down: skip this point, keep the schedule alive
            LOG.warn("burn-down sample skipped: {}", e.toString());
        }
    }

    private void syncLimits() {
        try {
            int n = engine.syncLimits();
            if (n > 0) {
                LOG.info("applied {} limit change(s) made on another instance", n);
            }
        } catch (RuntimeException e) {
            // Redis down: the budgets' fail modes already apply; the next round catches up
            LOG.debug("limit sync skipped: {}", e.toString());
        }
    }

    /** The port bound (useful after asking for port 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    /** The base URI, e.g. {@code http://127.0.0.1:8081/}. */
    public URI uri() {
        InetSocketAddress a = http.getAddress();
        String host = a.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/");
    }

    /** The events this server lists: subscribe other readers here rather than keeping a second log. */
    public EventLog events() {
        return events;
    }

    /**
     * The usage history behind the forecasts: the host's, or by default the one the engine records
     * next to its store (the same one alerts project from).
     */
    public UsageHistory usageHistory() {
        return usage;
    }

    /** The ledger limit changes and reservations are recorded in. */
    public Ledger ledger() {
        return ledger;
    }

    List<Routes.Route> routes() {
        return routes.all();
    }

    /** Stops serving (in-flight requests get a second to finish), stops sampling, unsubscribes its event log. */
    @Override
    public synchronized void close() {
        http.stop(1);
        workers.shutdownNow();
        if (sampler != null) {
            sampler.shutdownNow();
        }
        if (ownEvents) {
            engine.unsubscribe(events);
        }
    }

    private static JsonNode openApi(ObjectMapper json) {
        try (InputStream in = AdminServer.class.getResourceAsStream("openapi.json")) {
            if (in == null) {
                throw new IllegalStateException("openapi.json is missing from the jar");
            }
            return json.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Builder of an {@link AdminServer}; only the token is required. */
    public static final class Builder {
        private final BudgetEngine engine;
        private AdminToken token;
        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private ForecastSource forecasts;
        private UsageHistory usage;
        private ReservationService reservations;
        private Ledger ledger;
        private EventLog events;
        private Duration sampleInterval = DEFAULT_SAMPLE_INTERVAL;
        private int historyPoints = DEFAULT_HISTORY_POINTS;
        private Duration limitsSyncInterval = DEFAULT_LIMITS_SYNC_INTERVAL;

        private Builder(BudgetEngine engine) {
            this.engine = Objects.requireNonNull(engine, "engine");
        }

        /** The bearer token; refused when shorter than {@value AdminToken#MIN_LENGTH} characters. */
        public Builder token(String t) {
            this.token = AdminToken.of(t);
            return this;
        }

        /**
         * The token from {@code TOKENBUDGET_ADMIN_TOKEN}, or a generated one printed to standard
         * output as {@code TOKENBUDGET_ADMIN_TOKEN=...}.
         */
        public Builder tokenFromEnvironment() {
            return token(AdminToken.fromEnvironmentOrGenerate(System.getenv(), System.out));
        }

        /** The address to bind, {@value AdminServer#DEFAULT_HOST} by default; anything else is reachable from other hosts. */
        public Builder host(String h) {
            this.host = Objects.requireNonNull(h, "host");
            return this;
        }

        /** The port, {@value AdminServer#DEFAULT_PORT} by default; 0 picks a free one. */
        public Builder port(int p) {
            if (p < 0 || p > 65_535) {
                throw new IllegalArgumentException("admin port must be 0-65535, was " + p);
            }
            this.port = p;
            return this;
        }

        /**
         * Where forecasts come from; by default the engine's forecaster over {@link #usageHistory}.
         * {@link ForecastSource#none()} turns them off (forecast fields are null).
         */
        public Builder forecasts(ForecastSource f) {
            this.forecasts = Objects.requireNonNull(f, "forecasts");
            return this;
        }

        /**
         * A usage history the host feeds (e.g. one it shares with alerts); by default the server
         * keeps one in memory, fed from the engine's status at each sample (history starts when
         * the host starts).
         */
        public Builder usageHistory(UsageHistory h) {
            this.usage = Objects.requireNonNull(h, "usage history");
            return this;
        }

        /** Reservations; without one the reservation routes answer 501. */
        public Builder reservations(ReservationService r) {
            this.reservations = r;
            return this;
        }

        /** Where limit changes are recorded; the engine's ledger (kept by its store) by default. */
        public Builder ledger(Ledger l) {
            this.ledger = l;
            return this;
        }

        /** An event log the host already subscribed; by default the server keeps its own. */
        public Builder events(EventLog log) {
            this.events = log;
            return this;
        }

        /** How often usage is sampled for the burn-down charts; {@link Duration#ZERO} samples only on {@link #sample()}. */
        public Builder sampleInterval(Duration d) {
            this.sampleInterval = interval(d, "sample interval");
            return this;
        }

        /** Points kept per budget window for the burn-down charts ({@value AdminServer#DEFAULT_HISTORY_POINTS} by default). */
        public Builder historyPoints(int n) {
            this.historyPoints = n;
            return this;
        }

        /**
         * How often the engine applies limit changes other instances saved in the shared store
         * ({@code engine.syncLimits()}; 1 s by default, only on a shared store such as Redis);
         * {@link Duration#ZERO} leaves it to the host.
         */
        public Builder limitsSyncInterval(Duration d) {
            this.limitsSyncInterval = interval(d, "limits sync interval");
            return this;
        }

        private static Duration interval(Duration d, String what) {
            if (d.isNegative() || (!d.isZero() && d.toMillis() < 1)) {
                throw new IllegalArgumentException(what + " must be zero or at least 1 ms, was " + d);
            }
            return d;
        }

        /** Binds the port (not yet serving: call {@link AdminServer#start()}). */
        public AdminServer build() {
            if (token == null) {
                throw new IllegalStateException("the admin API needs a token: call token(..) or tokenFromEnvironment()");
            }
            try {
                return new AdminServer(this);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
            }
        }

        /** {@link #build()} and {@link AdminServer#start()}. */
        public AdminServer start() {
            return build().start();
        }
    }
}
