package dev.tokenbudget.apisix;

import dev.tokenbudget.alert.AlertService;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.GatewayOptions;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One engine (and its gateway layer) per engine-config file, shared by every route and both
 * phases that name it, so that all routes charge the same budgets. A file that fails to load is
 * not cached: the next request tries again, so fixing the file needs no runner restart.
 */
final class Gateways implements AutoCloseable {

    private final Map<Path, BudgetGateway> gateways = new ConcurrentHashMap<>();
    private final Map<Path, AlertService> alerts = new ConcurrentHashMap<>();

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
            return new BudgetGateway(engine, GatewayOptions.ofDefaults());
        });
    }

    /** The engine on the store its config names: in memory, or Redis shared with the other gateways. */
    private static BudgetEngine engine(EngineConfig config) {
        return BudgetEngine.builder(config).build();
    }

    Collection<BudgetGateway> all() {
        return List.copyOf(gateways.values());
    }

    @Override
    public void close() {
        alerts.values().forEach(AlertService::close);
        alerts.clear();
        for (BudgetGateway g : gateways.values()) {
            g.engine().close();
        }
        gateways.clear();
    }
}
