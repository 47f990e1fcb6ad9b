package dev.tokenbudget.scg;

import dev.tokenbudget.gateway.GatewayOptions;

/**
 * Adjusts the {@link GatewayOptions} the auto-configured gateway is built with, e.g. to register an
 * {@code UpstreamSigner} with the application's own credentials. Every bean of this type is applied.
 */
@FunctionalInterface
public interface GatewayOptionsCustomizer {

    void customize(GatewayOptions.Builder options);
}
