package dev.tokenbudget.scg;

import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.alert.AlertService;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.BudgetStores;
import dev.tokenbudget.time.BudgetClock;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.gateway.filter.factory.GatewayFilterFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ResourceLoader;
import org.springframework.web.reactive.DispatcherHandler;

/**
 * Sets up tokenbudget in a Spring Cloud Gateway (server-webflux) application: the engine from
 * {@code tokenbudget.config} on the store that config names (embedded in-memory by default, or
 * Redis), the gateway-neutral {@link BudgetGateway}, a lease sweeper,
 * and the {@code TokenBudget} filter factory. Every bean backs off when the application defines
 * its own.
 */
@AutoConfiguration
@ConditionalOnClass(GatewayFilterFactory.class)
@ConditionalOnProperty(prefix = "tokenbudget", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(TokenBudgetProperties.class)
@org.springframework.context.annotation.Import(CloudAuthConfiguration.class)
public class TokenBudgetAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnProperty(prefix = "tokenbudget", name = "config")
    EngineConfig tokenBudgetEngineConfig(TokenBudgetProperties properties, ResourceLoader loader) {
        return EngineConfigs.load(properties.getConfig(), loader);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(EngineConfig.class)
    BudgetStore tokenBudgetStore(EngineConfig config) {
        // memory, or Redis (standalone, Sentinel, Cluster) as store: in the engine YAML says
        return BudgetStores.open(config.store());
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    @ConditionalOnBean({EngineConfig.class, BudgetStore.class})
    BudgetEngine tokenBudgetEngine(EngineConfig config, BudgetStore store, ObjectProvider<BudgetClock> clock) {
        return BudgetEngine.builder(config).store(store).clock(clock.getIfAvailable(BudgetClock::system)).build();
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(BudgetEngine.class)
    BudgetGateway tokenBudgetGateway(BudgetEngine engine, TokenBudgetProperties properties, Environment env,
                                     ObjectProvider<GatewayOptionsCustomizer> customizers) {
        GatewayOptions.Builder options = GatewayOptions.custom()
                .maxBodyBytes(properties.getMaxBodySize().toBytes())
                .requestStreamUsage(properties.isRequestStreamUsage())
                .forwardUnknownPosts(properties.isForwardUnknownPosts())
                .prompts(properties.getPrompts())
                // the Spring environment includes the process environment, and lets tests and
                // secret stores supply the upstream keys named in the engine config's providers:
                .environment(env::getProperty);
        customizers.orderedStream().forEach(c -> c.customize(options));
        return new BudgetGateway(engine, options.build());
    }

    /** Thresholds and projections to the engine config's alert sinks (secrets from the environment). */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    @ConditionalOnBean(BudgetEngine.class)
    AlertService tokenBudgetAlerts(BudgetEngine engine, Environment env) {
        return AlertService.startFromConfig(engine, env::getProperty);
    }

    @Bean
    @ConditionalOnBean(BudgetEngine.class)
    LeaseSweeper tokenBudgetLeaseSweeper(BudgetEngine engine, TokenBudgetProperties properties) {
        return new LeaseSweeper(engine, properties.getLeaseSweepInterval());
    }

    @Bean
    @ConditionalOnMissingBean
    TokenBudgetGatewayFilterFactory tokenBudgetGatewayFilterFactory(ObjectProvider<BudgetGateway> gateway,
                                                                    TokenBudgetProperties properties,
                                                                    ObjectProvider<DispatcherHandler> dispatcher) {
        return new TokenBudgetGatewayFilterFactory(gateway, properties, dispatcher);
    }
}
