package dev.tokenbudget.apisix;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The plugin runner as its installation guide embeds it: a Spring Boot application scanning the
 * runner's packages. TokenBudget is not scanned: it arrives through its auto-configuration, as it
 * does when its jar is put on a runner's loader path.
 */
@SpringBootApplication(scanBasePackages = "org.apache.apisix.plugin.runner")
class RunnerTestApplication {
}
