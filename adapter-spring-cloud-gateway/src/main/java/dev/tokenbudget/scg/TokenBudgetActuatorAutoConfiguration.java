package dev.tokenbudget.scg;

import dev.tokenbudget.console.admin.BudgetTree;
import dev.tokenbudget.engine.BudgetEngine;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * {@code /actuator/tokenbudget} ({@link TokenBudgetEndpoint}) when Spring Boot Actuator is present
 * and an engine is set up; after {@link TokenBudgetAutoConfiguration}, whose engine it reads.
 */
@AutoConfiguration(after = TokenBudgetAutoConfiguration.class)
@ConditionalOnClass(Endpoint.class)
public class TokenBudgetActuatorAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(BudgetEngine.class)
    TokenBudgetEndpoint tokenBudgetEndpoint(BudgetEngine engine) {
        return new TokenBudgetEndpoint(new BudgetTree(engine));
    }
}
