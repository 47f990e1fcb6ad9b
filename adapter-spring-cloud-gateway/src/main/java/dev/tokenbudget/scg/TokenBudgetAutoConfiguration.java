package dev.tokenbudget.scg;

import dev.tokenbudget.alert.AlertService;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.console.admin.AdminServer;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.BudgetStores;
import dev.tokenbudget.telemetry.BudgetMeters;
import dev.tokenbudget.telemetry.BudgetTelemetry;
import dev.tokenbudget.time.BudgetClock;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.opentelemetry.api.OpenTelemetry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.gateway.filter.factory.GatewayFilterFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ResourceLoader;
import org.springframework.web.reactive.DispatcherHandler;

import java.util.ArrayList;
import java.util.List;

/**
 * Sets up tokenbudget in a Spring Cloud Gateway (server-webflux) application: the engine from
 * {@code tokenbudget.config} on the store that config names (embedded in-memory by default, or
 * Redis), the gateway-neutral {@link BudgetGateway}, a lease sweeper, the {@code TokenBudget}
 * filter factory, metrics (OpenTelemetry and Micrometer, when present), the Actuator endpoint
 * {@code tokenbudget} (when Actuator is present) and, with {@code tokenbudget.admin.enabled}, the
 * admin API and dashboard. Every bean backs off when the application defines its own.
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

    /**
     * The engine's metrics: to the application's {@link OpenTelemetry} when it has one, and to
     * every {@link BudgetMeters} bean — Micrometer's registry when Micrometer is present.
     */
    @Bean
    @ConditionalOnMissingBean
    BudgetTelemetry tokenBudgetTelemetry(ObjectProvider<OpenTelemetry> otel, ObjectProvider<BudgetMeters> meters) {
        List<BudgetMeters> all = new ArrayList<>(meters.orderedStream().toList());
        otel.ifAvailable(o -> all.add(BudgetMeters.openTelemetry(o)));
        return BudgetTelemetry.of(all);
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    @ConditionalOnBean({EngineConfig.class, BudgetStore.class})
    BudgetEngine tokenBudgetEngine(EngineConfig config, BudgetStore store, ObjectProvider<BudgetClock> clock,
                                   ObjectProvider<BudgetTelemetry> telemetry) {
        return BudgetEngine.builder(config).store(store).clock(clock.getIfAvailable(BudgetClock::system))
                .telemetry(telemetry.getIfAvailable(BudgetTelemetry::noop)).build();
    }

    /**
     * The admin API and burn-down dashboard on their own port ({@code tokenbudget.admin.*}), with
     * the token from {@code tokenbudget.admin.token}, else {@code TOKENBUDGET_ADMIN_TOKEN}, else
     * generated and printed.
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    @ConditionalOnBean(BudgetEngine.class)
    @ConditionalOnProperty(prefix = "tokenbudget.admin", name = "enabled", havingValue = "true")
    AdminServer tokenBudgetAdminServer(BudgetEngine engine, TokenBudgetProperties properties, Environment env) {
        TokenBudgetProperties.Admin admin = properties.getAdmin();
        AdminServer.Builder b = AdminServer.builder(engine).host(admin.getBindAddress()).port(admin.getPort());
        String token = admin.getToken() != null ? admin.getToken() : env.getProperty("TOKENBUDGET_ADMIN_TOKEN");
        return (token != null ? b.token(token) : b.tokenFromEnvironment()).start();
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

    /** The engine's instruments on Micrometer, bound by Spring Boot to the application's registry. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterBinder.class)
    static class MicrometerConfiguration {

        @Bean
        @ConditionalOnMissingBean(MicrometerBudgetMeters.class)
        MicrometerBudgetMeters tokenBudgetMicrometerMeters() {
            return new MicrometerBudgetMeters();
        }
    }
}
