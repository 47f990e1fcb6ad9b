package dev.tokenbudget.apisix;

import dev.tokenbudget.alert.AlertService;
import dev.tokenbudget.console.admin.AdminServer;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.gateway.UpstreamSigner;
import dev.tokenbudget.provider.Provider;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * One engine (and its gateway layer) per engine-config file, shared by every route and both
 * phases that name it, so that all routes charge the same budgets. A file that fails to load is
 * not cached: the next request tries again, so fixing the file needs no runner restart.
 */
final class Gateways implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Gateways.class);

    private final Map<Path, BudgetGateway> gateways = new ConcurrentHashMap<>();
    private final Map<Path, AlertService> alerts = new ConcurrentHashMap<>();
    private final int adminPort;
    private final Map<Provider, UpstreamSigner> signers;
    private final BooleanSupplier rewritesBodies;
    private volatile AdminServer admin;

    /**
     * @param adminPort      port of the admin API for the first engine loaded, -1 for none
     * @param signers        upstream signers (Bedrock SigV4, Vertex tokens) for every engine's gateway
     * @param rewritesBodies whether the runner sends rewritten bodies upstream, asked when an engine loads
     */
    Gateways(int adminPort, Map<Provider, UpstreamSigner> signers, BooleanSupplier rewritesBodies) {
        this.adminPort = adminPort;
        this.signers = Map.copyOf(signers);
        this.rewritesBodies = rewritesBodies;
    }

    Gateways() {
        this(-1, Map.of(), () -> false);
    }

    /**
     * The gateway for {@code config}, loading its engine on first use.
     *
     * @throws dev.tokenbudget.config.ConfigException when the file is missing or invalid
     */
    BudgetGateway get(Path config) {
        return gateways.computeIfAbsent(config, p -> {
            BudgetEngine engine = engine(ConfigLoader.load(p));
            // thresholds and projections go to the config's alert sinks, off the request path
            alerts.put(p, AlertService.startFromConfig(engine, System::getenv));
            startAdmin(engine, p);
            // without the extended runner a body cannot change: requests are reserved at the ceiling they ask for
            GatewayOptions.Builder options = GatewayOptions.custom().rewritesBodies(rewritesBodies.getAsBoolean());
            signers.forEach(options::upstreamSigner);
            return new BudgetGateway(engine, options.build());
        });
    }

    /** The engine on the store its config names: in memory, or Redis shared with the other gateways. */
    private static BudgetEngine engine(EngineConfig config) {
        return BudgetEngine.builder(config).build();
    }

    /** The admin API over the first engine loaded (one port, one engine), when a port is configured. */
    private synchronized void startAdmin(BudgetEngine engine, Path config) {
        if (adminPort < 0 || admin != null) {
            return;
        }
        try {
            admin = AdminServer.builder(engine).tokenFromEnvironment().port(adminPort).start();
            LOG.info("tokenbudget admin API and dashboard on 127.0.0.1:{} for {}", admin.port(), config);
        } catch (RuntimeException e) {
            LOG.warn("tokenbudget admin API not started on port {}: {}", adminPort, e.toString());
        }
    }

    /** The admin server, once started; null before or without a port. */
    AdminServer admin() {
        return admin;
    }

    Collection<BudgetGateway> all() {
        return List.copyOf(gateways.values());
    }

    @Override
    public void close() {
        if (admin != null) {
            admin.close();
        }
        alerts.values().forEach(AlertService::close);
        alerts.clear();
        for (BudgetGateway g : gateways.values()) {
            g.engine().close();
        }
        gateways.clear();
    }
}
