package com.example.gateway;

import dev.tokenbudget.example.GatewaySuite;

/** The shared suite against this Spring Boot 4 gateway. */
class GatewayApplicationTest extends GatewaySuite {
}
