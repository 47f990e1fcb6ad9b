package dev.tokenbudget.apisix;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Registers the TokenBudget plugin filters with the APISIX plugin runner. Listed in
 * {@code META-INF/spring.factories} (Spring Boot 2, runner 0.4/0.5) and in
 * {@code META-INF/spring/...AutoConfiguration.imports} (Spring Boot 3), so adding the jar to the
 * runner's classpath is all it takes.
 */
@Configuration(proxyBeanMethods = false)
public class TokenBudgetAutoConfiguration {

    /**
     * The shared plugin state. Each setting is a system property on the runner's command line (or
     * the same name in the runner's own configuration, or its environment variable, e.g.
     * {@code TOKENBUDGET_APISIX_SETTLE_PORT}): {@code tokenbudget.apisix.correlation-var} names the
     * nginx variable that identifies a request; {@code tokenbudget.apisix.admin-port} serves the
     * admin API and dashboard on 127.0.0.1; {@code tokenbudget.apisix.settle-port} the endpoint
     * the routes' http-logger posts to, on 127.0.0.1, behind {@code TOKENBUDGET_SETTLE_SECRET}
     * (both off by default).
     */
    @Bean(destroyMethod = "close")
    public TokenBudgetPlugin tokenBudgetPlugin(
            @Value("${tokenbudget.apisix.correlation-var:" + TokenBudgetPlugin.DEFAULT_CORRELATION_VAR + "}")
            String correlationVar,
            @Value("${tokenbudget.apisix.admin-port:-1}") int adminPort,
            @Value("${tokenbudget.apisix.settle-port:-1}") int settlePort) {
        return new TokenBudgetPlugin(correlationVar, adminPort, settlePort, System.getenv("TOKENBUDGET_SETTLE_SECRET"));
    }

    /** {@code TokenBudget}, for a route's ext-plugin-pre-req. */
    @Bean
    public TokenBudgetFilter tokenBudgetFilter(TokenBudgetPlugin plugin) {
        return new TokenBudgetFilter(plugin);
    }

    @Bean
    public TokenBudgetConfWatcher tokenBudgetConfWatcher(TokenBudgetPlugin plugin) {
        return new TokenBudgetConfWatcher(plugin);
    }
}
