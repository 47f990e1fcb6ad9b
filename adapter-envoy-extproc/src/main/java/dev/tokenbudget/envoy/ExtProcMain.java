package dev.tokenbudget.envoy;

import dev.tokenbudget.config.ConfigException;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.config.Quantities;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.alert.AlertService;
import dev.tokenbudget.console.admin.AdminServer;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.BudgetStores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;

/**
 * {@code java -jar tokenbudget-envoy-extproc.jar --config tokenbudget.yaml}: the external processor
 * Envoy's {@code envoy.filters.http.ext_proc} filter talks to. Serves until SIGTERM/SIGINT, then
 * drains the open streams (docs/envoy.md).
 */
@Command(name = "tokenbudget-envoy-extproc", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Token budgets for Envoy: an ext_proc gRPC server backed by the tokenbudget engine.")
public final class ExtProcMain implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(ExtProcMain.class);

    @Option(names = "--config", required = true, paramLabel = "FILE",
            description = "The engine's YAML config (budgets, keys, providers, store).")
    private Path config;

    @Option(names = "--grpc-address", paramLabel = "HOST", defaultValue = "0.0.0.0",
            description = "Address the gRPC server binds to (default: ${DEFAULT-VALUE}).")
    private String grpcAddress;

    @Option(names = "--grpc-port", paramLabel = "PORT", defaultValue = "50051",
            description = "gRPC port for ext_proc and grpc.health.v1.Health; 0 picks a free port (default: ${DEFAULT-VALUE}).")
    private int grpcPort;

    @Option(names = "--admin-port", paramLabel = "PORT", defaultValue = "8081",
            description = "Port of the admin HTTP API and dashboard on 127.0.0.1 (default 8081; 0 any free port; "
                    + "-1 none). Token: TOKENBUDGET_ADMIN_TOKEN, generated and printed when unset.")
    private int adminPort;

    @Option(names = "--store", paramLabel = "memory|redis",
            description = "Overrides store.type of the config (redis: budgets shared with the other gateways).")
    private String store;

    @Option(names = "--redis-uri", paramLabel = "URI", description = "Overrides store.redis.uri of the config.")
    private String redisUri;

    @Option(names = "--drain-notice", paramLabel = "DURATION", defaultValue = "0s",
            description = "On SIGTERM, how long to report NOT_SERVING while still serving, so Envoy's health "
                    + "checks move new streams elsewhere first; use interval x unhealthy_threshold (default: ${DEFAULT-VALUE}).")
    private String drainNotice;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", defaultValue = "30s",
            description = "On SIGTERM, how long open streams may take to finish (default: ${DEFAULT-VALUE}).")
    private String drainTimeout;

    @Option(names = "--message-timeout", paramLabel = "DURATION", defaultValue = "200ms",
            description = "The ext_proc filter's message_timeout: every answer is sent before it runs out "
                    + "(default: ${DEFAULT-VALUE}, Envoy's default).")
    private String messageTimeout;

    @Option(names = "--max-message-timeout", paramLabel = "DURATION", defaultValue = "0s",
            description = "The ext_proc filter's max_message_timeout: up to this, a slow admission (large body, "
                    + "upstream quota wait) asks Envoy for more time; 0s when the filter has none (default: ${DEFAULT-VALUE}).")
    private String maxMessageTimeout;

    @Option(names = "--max-message-bytes", paramLabel = "BYTES", defaultValue = "33554432",
            description = "Largest gRPC message accepted; keep it above Envoy's buffer limit (default: ${DEFAULT-VALUE}).")
    private int maxMessageBytes;

    @Option(names = "--grpc-threads", paramLabel = "N",
            description = "Threads that run the processor's gRPC callbacks, a fixed pool; 0 for grpc-java's cached "
                    + "pool, a thread per busy stream (default: twice the cores, at least 4; no thread waits for "
                    + "the store, Redis included).")
    private Integer grpcThreads;

    @Option(names = "--bedrock-signing-region", paramLabel = "REGION",
            description = "SigV4-sign Bedrock requests for this AWS region with the AWS SDK's default credential "
                    + "chain, instead of providers.bedrock.api_key_env (docs/envoy.md).")
    private String bedrockSigningRegion;

    @Option(names = "--bedrock-upstream", paramLabel = "URL",
            description = "The scheme and host Envoy's Bedrock route sends to (its host_rewrite_literal), which the "
                    + "signature covers (default: https://bedrock-runtime.<region>.amazonaws.com).")
    private String bedrockUpstream;

    @Option(names = "--vertex-application-default-credentials",
            description = "Authorise Vertex AI requests with Google's Application Default Credentials "
                    + "(GOOGLE_APPLICATION_CREDENTIALS, gcloud, the metadata server), refreshed before expiry.")
    private boolean vertexAdc;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ExtProcMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        ExtProcSettings settings;
        CloudSigning cloud;
        try {
            settings = new ExtProcSettings(config, grpcAddress, grpcPort, adminPort, store, redisUri,
                    duration("--drain-notice", drainNotice), duration("--drain-timeout", drainTimeout),
                    maxMessageBytes, grpcThreads, new MessageTimeouts(duration("--message-timeout", messageTimeout),
                            duration("--max-message-timeout", maxMessageTimeout)));
            cloud = new CloudSigning(blankToNull(bedrockSigningRegion), blankToNull(bedrockUpstream), vertexAdc);
        } catch (IllegalArgumentException e) {
            return refuse(e.getMessage(), List.of());
        }
        ExtProcServer server;
        try {
            server = server(settings, cloud);
        } catch (ConfigException e) {
            return refuse("invalid config " + config + ":", e.errors());
        } catch (RuntimeException e) {
            // a bad store URI, an unusable address: say what, no stack trace
            return refuse(e.getMessage(), List.of());
        }
        server.start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.drain(settings.drainNotice(), settings.drainTimeout());
            stopped.countDown();
        }, "tokenbudget-drain"));
        server.awaitTermination();
        stopped.await();
        return 0;
    }

    /** Says on standard error why the server cannot run, each detail on a line of its own; exit code 2. */
    private static int refuse(String message, List<?> details) {
        System.err.println("tokenbudget-envoy-extproc: " + message);
        details.forEach(d -> System.err.println("  " + d));
        return 2;
    }

    /** Builds the engine, the gateway layer and the gRPC server the flags describe (not started). */
    static ExtProcServer server(ExtProcSettings s) {
        return server(s, CloudSigning.NONE);
    }

    /** As {@link #server(ExtProcSettings)}, signing Bedrock and Vertex requests as {@code cloud} says. */
    static ExtProcServer server(ExtProcSettings s, CloudSigning cloud) {
        EngineConfig cfg = ConfigLoader.load(s.config());
        // signers first: a bad region or missing Google credentials is refused before anything is opened
        GatewayOptions options = cloud.register(GatewayOptions.custom()).build();
        StoreSettings st = cfg.store();
        if (s.store() != null || s.redisUri() != null) {
            st = new StoreSettings(s.store() != null ? s.store() : st.type(),
                    s.redisUri() != null ? s.redisUri() : st.redisUri(), st.cluster(), st.timeout(), st.keyPrefix(),
                    st.tls());
        }
        if (st.isRedis() && (st.redisUri() == null || st.redisUri().isBlank())) {
            throw new IllegalArgumentException("the redis store needs a URI: set store.redis.uri or --redis-uri");
        }
        BudgetStore store = BudgetStores.open(st);
        BudgetEngine engine = BudgetEngine.builder(cfg).store(store).history(BudgetStores.history(st)).build();
        // thresholds and projections go to the config's alert sinks, off the request path
        AlertService alerts = AlertService.startFromConfig(engine, System::getenv);
        AdminServer admin = s.adminPort() < 0 ? null : startAdmin(engine, s.adminPort());
        ExecutorService callbacks = ExtProcServer.callbackPool(handlerThreads(s));
        ExtProcService service = new ExtProcService(new BudgetGateway(engine, options), cloud.upstreams(),
                s.timeouts(), callbacks);
        LOG.atInfo().addKeyValue("event", "config_loaded").addKeyValue("config", s.config())
                .addKeyValue("budgets", cfg.budgets().budgets().size()).addKeyValue("keys", cfg.keys().size())
                .addKeyValue("store", st.type()).log("engine ready");
        return new ExtProcServer(new InetSocketAddress(s.grpcAddress(), s.grpcPort()), service,
                service::openStreams, s.maxMessageBytes(), callbacks, () -> {
                    if (admin != null) {
                        admin.close();
                    }
                    alerts.close();
                    engine.close();
                });
    }

    /**
     * The flag, else {@link ExtProcServer#DEFAULT_HANDLER_THREADS} on either store: on Redis too no
     * callback waits for the reservation (the stream goes on when Redis answers).
     */
    static int handlerThreads(ExtProcSettings s) {
        return s.grpcThreads() != null ? s.grpcThreads() : ExtProcServer.DEFAULT_HANDLER_THREADS;
    }

    private static AdminServer startAdmin(BudgetEngine engine, int port) {
        try {
            AdminServer admin = AdminServer.builder(engine).tokenFromEnvironment().port(port).start();
            LOG.atInfo().addKeyValue("event", "admin_started").addKeyValue("admin_port", admin.port())
                    .log("admin API and dashboard on 127.0.0.1");
            return admin;
        } catch (java.io.UncheckedIOException e) {
            throw new IllegalArgumentException("--admin-port " + port + ": cannot listen (" + e.getMessage() + ")", e);
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static Duration duration(String flag, String text) {
        try {
            return Quantities.duration(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + " " + e.getMessage(), e);
        }
    }

    /** The validated flags; null for a flag that was not given and has no fixed default. */
    record ExtProcSettings(Path config, String grpcAddress, int grpcPort, int adminPort, String store,
                           String redisUri, Duration drainNotice, Duration drainTimeout, int maxMessageBytes,
                           Integer grpcThreads, MessageTimeouts timeouts) {
        ExtProcSettings {
            if (grpcPort < 0 || grpcPort > 65535) {
                throw new IllegalArgumentException("--grpc-port must be 0..65535, was " + grpcPort);
            }
            if (adminPort < -1 || adminPort > 65535) {
                throw new IllegalArgumentException("--admin-port must be 0..65535, was " + adminPort);
            }
            if (store != null && !store.equals("memory") && !store.equals("redis")) {
                throw new IllegalArgumentException("--store must be memory or redis, was '" + store + "'");
            }
            if (grpcThreads != null && (grpcThreads < 0 || grpcThreads > 1024)) {
                throw new IllegalArgumentException("--grpc-threads must be 0..1024, was " + grpcThreads);
            }
            if (maxMessageBytes < 1 << 20) {
                throw new IllegalArgumentException("--max-message-bytes must be at least 1048576, was "
                        + maxMessageBytes);
            }
        }
    }
}
