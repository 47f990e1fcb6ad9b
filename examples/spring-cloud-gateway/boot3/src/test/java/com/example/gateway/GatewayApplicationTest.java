package com.example.gateway;

import dev.tokenbudget.example.GatewaySuite;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;

/**
 * The shared suite against this Spring Boot 3.5 gateway. Boot 3's test support switches metrics
 * export off unless a test asks for it; the gateway itself exports as configured.
 */
@AutoConfigureObservability(tracing = false)
class GatewayApplicationTest extends GatewaySuite {
}
