package dev.tokenbudget.scg;

import dev.tokenbudget.time.BudgetClock;
import dev.tokenbudget.time.ManualClock;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;

import java.time.Instant;

/** The gateway application of the integration tests: auto-configuration plus a clock the tests control. */
@SpringBootConfiguration
@EnableAutoConfiguration
class GatewayTestApp {

    /** Noon UTC: every daily window resets in exactly 12 hours. */
    static final Instant NOW = Instant.parse("2026-03-10T12:00:00Z");

    @Bean
    BudgetClock testClock() {
        return new ManualClock(NOW);
    }
}
