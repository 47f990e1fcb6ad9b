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
     * The shared plugin state. {@code tokenbudget.apisix.correlation-var} (a system property on the
     * runner's command line, or the runner's own configuration) names the nginx variable that ties
     * a request's two phases together; {@code tokenbudget.apisix.admin-port} serves the admin API
     * and dashboard on 127.0.0.1 (off by default).
     */
    @Bean(destroyMethod = "close")
    public TokenBudgetPlugin tokenBudgetPlugin(
            @Value("${tokenbudget.apisix.correlation-var:" + TokenBudgetPlugin.DEFAULT_CORRELATION_VAR + "}")
            String correlationVar,
            @Value("${tokenbudget.apisix.admin-port:-1}") int adminPort) {
        return new TokenBudgetPlugin(correlationVar, adminPort);
    }

    /** {@code TokenBudget}, for a route's ext-plugin-pre-req. */
    @Bean
    public TokenBudgetFilter tokenBudgetFilter(TokenBudgetPlugin plugin) {
        return TokenBudgetFilter.admission(plugin);
    }

    /** {@code TokenBudgetSettle}, for a route's ext-plugin-post-resp. */
    @Bean
    public TokenBudgetFilter tokenBudgetSettleFilter(TokenBudgetPlugin plugin) {
        return TokenBudgetFilter.settlement(plugin);
    }

    @Bean
    public TokenBudgetConfWatcher tokenBudgetConfWatcher(TokenBudgetPlugin plugin) {
        return new TokenBudgetConfWatcher(plugin);
    }
}
