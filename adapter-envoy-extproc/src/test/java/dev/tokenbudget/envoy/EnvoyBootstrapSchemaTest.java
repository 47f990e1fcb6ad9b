package dev.tokenbudget.envoy;

import dev.tokenbudget.engine.DecisionHeaders;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** examples/envoy/envoy.yaml against Envoy's proto schema, and against what the processor expects of it. */
class EnvoyBootstrapSchemaTest {

    private static String yaml;
    private static Bootstrap bootstrap;
    private static HttpConnectionManager hcm;

    @BeforeAll
    static void load() throws IOException {
        yaml = Files.readString(EnvoyBootstrapFile.example());
        bootstrap = EnvoyBootstrapFile.parse(yaml);
        hcm = bootstrap.getStaticResources().getListeners(0).getFilterChains(0).getFilters(0).getTypedConfig()
                .unpack(HttpConnectionManager.class);
    }

    @Test
    void exampleParsesAsBootstrapWithExtProcBeforeTheRouter() {
        List<String> filters = hcm.getHttpFiltersList().stream().map(HttpFilter::getName).toList();
        assertThat(filters).containsExactly("envoy.filters.http.ext_proc", "envoy.filters.http.router");
    }

    @Test
    void extProcFilterBuffersRequestBodiesAndAllowsTheProcessorsOverride() throws Exception {
        ExternalProcessor ep = extProc();
        assertThat(ep.getGrpcService().getEnvoyGrpc().getClusterName()).isEqualTo("tokenbudget_extproc");
        assertThat(ep.getProcessingMode().getRequestBodyMode()).isEqualTo(BodySendMode.BUFFERED);
        assertThat(ep.getAllowModeOverride()).isTrue();
        // Envoy applies an override only if it equals an allowed mode (request_header_mode aside)
        assertThat(ep.getAllowedOverrideModesList()).contains(ProcessingModes.METERED_RESPONSE);
        assertThat(ep.hasMessageTimeout()).isTrue();
        // room for override_message_timeout before a large body or an upstream quota wait
        assertThat(com.google.protobuf.util.Durations.compare(ep.getMaxMessageTimeout(), ep.getMessageTimeout()))
                .isPositive();
        assertThat(ep.getMutationRules().getDisallowIsError().getValue()).isTrue();
    }

    @Test
    void economyRouteMatchesTheRouteLabelTheEngineSetsAndLeadsToAnotherCluster() {
        Route economy = routes().stream()
                .filter(r -> r.getMatch().getHeadersList().stream()
                        .anyMatch(h -> h.getName().equals(DecisionHeaders.ROUTE)))
                .findFirst().orElseThrow();
        assertThat(economy.getMatch().getHeaders(0).getStringMatch().getExact()).isEqualTo("economy");
        Route plain = routes().stream()
                .filter(r -> r.getMatch().getPrefix().equals("/v1/") && r.getMatch().getHeadersCount() == 0)
                .findFirst().orElseThrow();
        assertThat(economy.getRoute().getCluster()).isNotEqualTo(plain.getRoute().getCluster());
        // the labelled route must come first: Envoy takes the first match
        assertThat(routes().indexOf(economy)).isLessThan(routes().indexOf(plain));
    }

    @Test
    void everyReferencedClusterIsDefinedAndTheProcessorClusterSpeaksHttp2() throws Exception {
        Set<String> defined = bootstrap.getStaticResources().getClustersList().stream().map(Cluster::getName)
                .collect(Collectors.toSet());
        for (Route r : routes()) {
            if (r.hasRoute()) {
                assertThat(defined).contains(r.getRoute().getCluster());
            }
        }
        String processorCluster = extProc().getGrpcService().getEnvoyGrpc().getClusterName();
        Cluster processor = bootstrap.getStaticResources().getClustersList().stream()
                .filter(c -> c.getName().equals(processorCluster))
                .findFirst().orElseThrow();
        var options = processor.getTypedExtensionProtocolOptionsMap()
                .get("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
                .unpack(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.class);
        assertThat(options.getExplicitHttpConfig().hasHttp2ProtocolOptions()).isTrue();
        assertThat(processor.getHealthChecks(0).getGrpcHealthCheck().getServiceName())
                .isEqualTo(ExtProcServer.HEALTH_SERVICE);
    }

    @Test
    void misspelledFieldFailsTheParse() {
        String bad = yaml.replace("failure_mode_allow: false", "failure_mode_alow: false");
        assertThat(bad).isNotEqualTo(yaml);
        assertThatThrownBy(() -> EnvoyBootstrapFile.parse(bad)).isInstanceOf(IOException.class)
                .hasMessageContaining("failure_mode_alow");
    }

    @Test
    void unknownEnumValueFailsTheParse() {
        String bad = yaml.replace("request_body_mode: BUFFERED    #", "request_body_mode: BUFFER    #");
        assertThat(bad).isNotEqualTo(yaml);
        assertThatThrownBy(() -> EnvoyBootstrapFile.parse(bad)).isInstanceOf(IOException.class)
                .hasMessageContaining("BUFFER");
    }

    @Test
    void misspelledFieldInsideATypedConfigFailsTheParse() {
        String bad = yaml.replace("route_cache_action: DEFAULT", "route_cache_actions: DEFAULT");
        assertThat(bad).isNotEqualTo(yaml);
        assertThatThrownBy(() -> EnvoyBootstrapFile.parse(bad)).isInstanceOf(IOException.class);
    }

    private static ExternalProcessor extProc() throws Exception {
        return hcm.getHttpFilters(0).getTypedConfig().unpack(ExternalProcessor.class);
    }

    private static List<Route> routes() {
        return hcm.getRouteConfig().getVirtualHosts(0).getRoutesList();
    }

    @Test
    void exampleEngineConfigDegradesOntoTheEconomyRouteThatEnvoyMatches() {
        var cfg = dev.tokenbudget.config.ConfigLoader.load(EnvoyBootstrapFile.example().resolveSibling("tokenbudget.yaml"));
        var support = cfg.budgets().get("support").orElseThrow();
        String label = routes().stream().flatMap(r -> r.getMatch().getHeadersList().stream())
                .filter(h -> h.getName().equals(DecisionHeaders.ROUTE))
                .map(h -> h.getStringMatch().getExact()).findFirst().orElseThrow();
        assertThat(support.degrade().route()).isEqualTo(label);
        assertThat(cfg.providerKeyEnv()).containsKeys("openai", "anthropic");
    }

    @Test
    void economyRouteDropsTheProviderKeyBeforeTheInHouseCluster() {
        Route economy = routes().stream().filter(r -> r.getMatch().getHeadersCount() > 0).findFirst().orElseThrow();
        assertThat(economy.getRequestHeadersToRemoveList()).contains("authorization");
    }
}
