package dev.tokenbudget.scg;

import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.provider.Provider;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.factory.AbstractGatewayFilterFactory;
import org.springframework.cloud.gateway.support.HasRouteId;
import org.springframework.web.reactive.DispatcherHandler;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The {@code TokenBudget} route filter:
 *
 * <pre>
 * spring.cloud.gateway.server.webflux.routes:
 *   - id: openai
 *     uri: https://api.openai.com
 *     predicates: [ Path=/v1/** ]
 *     filters: [ TokenBudget ]               # or TokenBudget=openai to name the provider
 * </pre>
 *
 * The provider comes from the filter argument, else {@code tokenbudget.routes.<id>.provider},
 * else {@code tokenbudget.default-provider}; {@code auto} detects it from the request path.
 */
public class TokenBudgetGatewayFilterFactory
        extends AbstractGatewayFilterFactory<TokenBudgetGatewayFilterFactory.Config> {

    private final ObjectProvider<BudgetGateway> gateway;
    private final TokenBudgetProperties properties;
    private final ObjectProvider<DispatcherHandler> dispatcher;

    public TokenBudgetGatewayFilterFactory(ObjectProvider<BudgetGateway> gateway, TokenBudgetProperties properties,
                                           ObjectProvider<DispatcherHandler> dispatcher) {
        super(Config.class);
        this.gateway = gateway;
        this.properties = properties;
        this.dispatcher = dispatcher;
    }

    @Override
    public String name() {
        return "TokenBudget";
    }

    @Override
    public List<String> shortcutFieldOrder() {
        return List.of("provider");
    }

    @Override
    public GatewayFilter apply(Config config) {
        String route = config.getRouteId() == null ? "?" : config.getRouteId();
        BudgetGateway g = gateway.getIfAvailable();
        if (g == null) {
            throw new IllegalStateException("route '" + route + "' uses the TokenBudget filter but no budget engine "
                    + "is configured: set tokenbudget.config to the engine YAML (e.g. file:tokenbudget.yaml)");
        }
        TokenBudgetProperties.RouteSettings rs = config.getRouteId() == null ? null
                : properties.getRoutes().get(config.getRouteId());
        String name = firstNonBlank(config.getProvider(), rs == null ? null : rs.getProvider(),
                properties.getDefaultProvider());
        Provider provider = provider(name, route);
        boolean redispatch = config.getRedispatchOnDegrade() != null ? config.getRedispatchOnDegrade()
                : rs != null && rs.getRedispatchOnDegrade() != null ? rs.getRedispatchOnDegrade()
                : properties.isRedispatchOnDegrade();
        return new TokenBudgetFilter(g, provider, redispatch, new EngineCalls(g.engine().store()), dispatcher);
    }

    private static Provider provider(String name, String route) {
        if (name == null || name.trim().toLowerCase(Locale.ROOT).equals("auto")) {
            return null;
        }
        return Provider.byName(name).orElseThrow(() -> new IllegalArgumentException("route '" + route
                + "': unknown TokenBudget provider '" + name + "'; use auto or one of "
                + Arrays.stream(Provider.values()).map(Provider::configName).toList()));
    }

    private static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }

    /** Arguments of one use of the filter. */
    public static class Config implements HasRouteId {

        private String provider;
        private Boolean redispatchOnDegrade;
        private String routeId;

        /** The route's provider ({@code auto} to detect it from the path). */
        public String getProvider() {
            return provider;
        }

        public Config setProvider(String provider) {
            this.provider = provider;
            return this;
        }

        /** Whether a degraded request goes back through route matching (default: the property). */
        public Boolean getRedispatchOnDegrade() {
            return redispatchOnDegrade;
        }

        public Config setRedispatchOnDegrade(Boolean redispatchOnDegrade) {
            this.redispatchOnDegrade = redispatchOnDegrade;
            return this;
        }

        @Override
        public void setRouteId(String routeId) {
            this.routeId = routeId;
        }

        @Override
        public String getRouteId() {
            return routeId;
        }
    }
}
