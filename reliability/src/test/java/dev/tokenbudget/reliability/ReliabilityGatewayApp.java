package dev.tokenbudget.reliability;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;

/**
 * The gateway of the reliability tests: Spring Cloud Gateway with the TokenBudget filter on the
 * routes of {@code reliability-gateway.yaml}, nothing else. Tests run it in their own JVM
 * ({@code @SpringBootTest}) or, to kill it, in a separate one through {@link #main}, which prints
 * {@value #PORT_LINE}{@code <port>} once it listens.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
public class ReliabilityGatewayApp {

    /** The line a separate gateway JVM prints when it is ready. */
    public static final String PORT_LINE = "RELIABILITY-GATEWAY-PORT=";

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
}
