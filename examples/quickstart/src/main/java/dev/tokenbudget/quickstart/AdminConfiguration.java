package dev.tokenbudget.quickstart;

import dev.tokenbudget.console.admin.AdminServer;
import dev.tokenbudget.engine.BudgetEngine;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;


/** The admin API and burn-down dashboard beside the gateway, on loopback. */
@Configuration(proxyBeanMethods = false)
class AdminConfiguration {

    @Bean(destroyMethod = "close")
    AdminServer adminServer(BudgetEngine engine, @Value("${quickstart.admin.port:8081}") int port) {
        return AdminServer.builder(engine).tokenFromEnvironment().port(port).start();
    }
}
