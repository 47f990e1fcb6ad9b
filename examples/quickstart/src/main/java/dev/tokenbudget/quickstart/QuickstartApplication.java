package dev.tokenbudget.quickstart;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The quickstart: Spring Cloud Gateway with the TokenBudget filter on 127.0.0.1:8080, an
 * OpenAI-compatible route and an Anthropic route, in front of the bundled fake provider (or real
 * providers: see {@code quickstart.*-url}), on the embedded in-memory store. {@code bin/quickstart}
 * builds and runs it in the foreground; Ctrl-C stops it.
 */
@SpringBootApplication
public class QuickstartApplication {

    public static void main(String[] args) {
        SpringApplication.run(QuickstartApplication.class, args);
    }
}
