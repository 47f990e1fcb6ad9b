package dev.tokenbudget.reliability;

import dev.tokenbudget.console.admin.AdminServer;
import dev.tokenbudget.engine.BudgetEngine;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

import java.time.Duration;

/**
 * The gateway of the reliability tests: Spring Cloud Gateway with the TokenBudget filter on the
 * routes of {@code reliability-gateway.yaml}, and, when {@code rel.admin.port} is set, the admin
 * API beside it on loopback as the quickstart serves it (token {@code rel.admin.token}, else
 * {@code TOKENBUDGET_ADMIN_TOKEN} from the environment). Tests run it in their own JVM
 * ({@code @SpringBootTest}) or, to kill it or read all its output, in a separate one through
 * {@link #main}, which prints {@value #PORT_LINE}{@code <port>} once it listens.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
public class ReliabilityGatewayApp {

    /** The line a separate gateway JVM prints when it is ready. */
    public static final String PORT_LINE = "RELIABILITY-GATEWAY-PORT=";

    /** The line printed when the admin API listens (before {@link #PORT_LINE}). */
    public static final String ADMIN_PORT_LINE = "RELIABILITY-ADMIN-PORT=";

    /** Upstream credentials the engine configs of these tests name ({@code providers:}). */
    public static final String UPSTREAM_OPENAI_KEY = "sk-rel-upstream-openai-0123456789";
    public static final String UPSTREAM_ANTHROPIC_KEY = "sk-rel-upstream-anthropic-0123456789";

    public static void main(String[] args) {
        SpringApplication app = new SpringApplication(ReliabilityGatewayApp.class);
        app.addListeners((WebServerInitializedEvent e) -> {
            System.out.println(PORT_LINE + e.getWebServer().getPort());
            System.out.flush();
        });
        app.run(args);
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnProperty("rel.admin.port")
    AdminServer adminServer(BudgetEngine engine, Environment env) {
        AdminServer.Builder b = AdminServer.builder(engine).port(env.getRequiredProperty("rel.admin.port", Integer.class))
                .sampleInterval(Duration.ZERO);
        String token = env.getProperty("rel.admin.token");
        AdminServer admin = (token != null ? b.token(token) : b.tokenFromEnvironment()).start();
        System.out.println(ADMIN_PORT_LINE + admin.port());
        System.out.flush();
        return admin;
    }
}
