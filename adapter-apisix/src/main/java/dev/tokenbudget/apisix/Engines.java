package dev.tokenbudget.apisix;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One engine per engine-config file, shared by every route (and both phases) that names it, so
 * that all routes charge the same budgets. A file that fails to load is not cached: the next
 * request tries again, so fixing the file needs no runner restart.
 */
final class Engines implements AutoCloseable {

    private final Map<Path, BudgetEngine> engines = new ConcurrentHashMap<>();

    /**
     * The engine for {@code config}, loading it on first use.
     *
     * @throws dev.tokenbudget.config.ConfigException when the file is missing or invalid
     */
    BudgetEngine get(Path config) {
        return engines.computeIfAbsent(config, p -> BudgetEngine.builder(ConfigLoader.load(p)).build());
    }

    Collection<BudgetEngine> all() {
        return List.copyOf(engines.values());
    }

    @Override
    public void close() {
        for (BudgetEngine e : engines.values()) {
            e.close();
        }
        engines.clear();
    }
}
