package dev.tokenbudget.envoy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.util.Durations;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.Quantities;
import dev.tokenbudget.gateway.GatewayFixture;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.grpc.Status;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static dev.tokenbudget.envoy.EnvoySequences.bearer;
import static dev.tokenbudget.envoy.ExtProcFixture.payload;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * examples/envoy-gateway/ against Envoy Gateway v1.9.0: every Envoy Gateway resource against the
 * OpenAPI schema of its CRD (structure only: field names, types, enums, bounds; unknown fields
 * rejected as {@code kubectl apply --validate=strict} does; the CEL rules that apply are checked by
 * hand below), the files against each other (ports, health service, timeouts, drain), and the
 * ext_proc filter Envoy Gateway generates from the policy against the processor, through EnvoyRules.
 */
class EnvoyGatewayExampleTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final String SCHEMAS = "/envoy-gateway-v1.9.0/";
    private static final Set<String> VALIDATED = Set.of("EnvoyExtensionPolicy", "ClientTrafficPolicy", "Backend");

    private static List<JsonNode> docs;

    @BeforeAll
    static void load() throws IOException {
        Path dir = EnvoyBootstrapFile.example().getParent().resolveSibling("envoy-gateway");
        docs = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(Files.readString(f))) {
                    while (it.hasNext()) {
                        JsonNode d = it.next();
                        if (d != null && !d.isEmpty()) {
                            docs.add(d);
                        }
                    }
                }
            }
        }
    }

    private static JsonNode one(String kind) {
        List<JsonNode> found = docs.stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
        assertThat(found).as(kind).hasSize(1);
        return found.get(0);
    }

    private static JsonSchema schema(String kind) {
        try (InputStream in = EnvoyGatewayExampleTest.class.getResourceAsStream(SCHEMAS + kind + ".schema.json")) {
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(new ObjectMapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Set<ValidationMessage> validate(JsonNode doc) {
        return schema(doc.path("kind").asText()).validate(doc);
    }

    @Test
    void everyEnvoyGatewayResourceMatchesItsCrdSchema() {
        List<JsonNode> checked = docs.stream().filter(d -> VALIDATED.contains(d.path("kind").asText())).toList();
        assertThat(checked).extracting(d -> d.path("kind").asText())
                .contains("EnvoyExtensionPolicy", "ClientTrafficPolicy", "Backend");
        for (JsonNode d : checked) {
            assertThat(d.path("apiVersion").asText()).isEqualTo("gateway.envoyproxy.io/v1alpha1");
            assertThat(validate(d)).as(d.path("kind") + " " + d.at("/metadata/name")).isEmpty();
        }
    }

    @Test
    void theSchemaCatchesAMisspelledFieldAndAnUnknownMode() {
        ObjectNode typo = one("EnvoyExtensionPolicy").deepCopy();
        ObjectNode ext = (ObjectNode) typo.at("/spec/extProc/0");
        ext.set("messageTimout", ext.remove("messageTimeout"));
        assertThat(validate(typo)).isNotEmpty();
        ObjectNode mode = one("EnvoyExtensionPolicy").deepCopy();
        ((ObjectNode) mode.at("/spec/extProc/0/processingMode/request")).put("body", "Buffer");
        assertThat(validate(mode)).isNotEmpty();
    }

    /** The CEL rules of ExtProc (ext_proc_types.go) that the schema cannot check. */
    @Test
    void extProcFollowsTheCrdsCelRulesAndWhatTheProcessorNeeds() {
        JsonNode ext = one("EnvoyExtensionPolicy").at("/spec/extProc/0");
        assertThat(ext.has("backendRef")).as("backendRefs must be used, backendRef is not supported").isFalse();
        JsonNode mode = ext.path("processingMode");
        assertThat(mode.at("/request/body").asText()).isEqualTo("Buffered");
        assertThat(mode.has("response")).as("response headers must be sent").isTrue();
        String responseBody = mode.at("/response/body").asText("");
        assertThat(responseBody).isNotEqualTo("FullDuplexStreamed");
        assertThat(responseBody.isEmpty() ? mode.path("allowModeOverride").asBoolean() : true)
                .as("without a response body mode the processor's mode_override must be allowed").isTrue();
        assertThat(ext.path("failOpen").asBoolean()).isFalse();
        assertThat(ext.path("shadowMode").asBoolean(false)).isFalse();
        // 2,000 concurrent streams are what ExtProcCircuitBreakerTest holds open; Envoy's default is 1,024
        assertThat(ext.at("/backendSettings/circuitBreaker/maxParallelRequests").asLong()).isGreaterThanOrEqualTo(2000);
        assertThat(ext.at("/backendSettings/circuitBreaker/maxPendingRequests").asLong()).isGreaterThan(1024);
        assertThat(ext.at("/backendSettings/healthCheck/active/type").asText()).isEqualTo("GRPC");
        assertThat(ext.at("/backendSettings/healthCheck/active/grpc/service").asText())
                .isEqualTo(ExtProcServer.HEALTH_SERVICE);
    }

    @Test
    void thePolicyTheServiceAndTheDeploymentAgree() {
        JsonNode ext = one("EnvoyExtensionPolicy").at("/spec/extProc/0");
        JsonNode service = one("Service");
        JsonNode deployment = one("Deployment");
        JsonNode container = deployment.at("/spec/template/spec/containers/0");
        Map<String, String> flags = flags(container);

        JsonNode ref = ext.at("/backendRefs/0");
        assertThat(ref.path("name").asText()).isEqualTo(service.at("/metadata/name").asText());
        JsonNode port = service.at("/spec/ports/0");
        assertThat(ref.path("port").asInt()).isEqualTo(port.path("port").asInt());
        JsonNode containerPort = container.at("/ports/0");
        assertThat(port.path("targetPort").asText()).isEqualTo(containerPort.path("name").asText());
        assertThat(flags.get("--grpc-port")).isEqualTo(containerPort.path("containerPort").asText());
        assertThat(service.at("/spec/selector")).isEqualTo(deployment.at("/spec/template/metadata/labels"));

        JsonNode readiness = container.at("/readinessProbe/grpc");
        assertThat(readiness.path("port").asInt()).isEqualTo(containerPort.path("containerPort").asInt());
        assertThat(readiness.path("service").asText()).isEqualTo(ExtProcServer.HEALTH_SERVICE);
        assertThat(container.has("livenessProbe")).as("a liveness probe would kill a draining pod").isFalse();

        // Envoy Gateway sets message_timeout from messageTimeout and no max_message_timeout
        assertThat(Quantities.duration(flags.get("--message-timeout")))
                .isEqualTo(Quantities.duration(ext.path("messageTimeout").asText()));
        assertThat(Quantities.duration(flags.get("--max-message-timeout"))).isZero();
        // the drain fits in the grace period Kubernetes gives before SIGKILL
        Duration drain = Quantities.duration(flags.get("--drain-notice"))
                .plus(Quantities.duration(flags.get("--drain-timeout")));
        assertThat(Duration.ofSeconds(deployment.at("/spec/template/spec/terminationGracePeriodSeconds").asLong()))
                .isGreaterThan(drain);
        // the flags parse as the server's command line
        new CommandLine(new ExtProcMain()).parseArgs(args(container));
    }

    @Test
    void buffersLetATenMebibytePromptThroughToTheProcessor() {
        long client = bytes(one("ClientTrafficPolicy").at("/spec/connection/bufferLimit").asText());
        long extProcCluster = bytes(one("EnvoyExtensionPolicy").at("/spec/extProc/0/backendSettings/connection/bufferLimit")
                .asText());
        assertThat(client).isGreaterThanOrEqualTo(10L << 20);
        assertThat(extProcCluster).isGreaterThanOrEqualTo(client);
        // the processor's default --max-message-bytes (32 MiB) stays above both
        assertThat(flags(one("Deployment").at("/spec/template/spec/containers/0"))).doesNotContainKey("--max-message-bytes");
        assertThat(32L << 20).isGreaterThanOrEqualTo(extProcCluster);
    }

    @Test
    void thePolicyAttachesToTheRouteWhoseEconomyRuleMatchesTheEnginesDegradeLabel() {
        JsonNode route = one("HTTPRoute");
        JsonNode target = one("EnvoyExtensionPolicy").at("/spec/targetRefs/0");
        assertThat(target.path("kind").asText()).isEqualTo("HTTPRoute");
        assertThat(target.path("name").asText()).isEqualTo(route.at("/metadata/name").asText());
        assertThat(one("ClientTrafficPolicy").at("/spec/targetRefs/0/name").asText())
                .isEqualTo(one("Gateway").at("/metadata/name").asText());
        var support = ConfigLoader.load(EnvoyBootstrapFile.example().resolveSibling("tokenbudget.yaml"))
                .budgets().get("support").orElseThrow();
        JsonNode economy = route.at("/spec/rules/0");
        assertThat(economy.at("/matches/0/headers/0/name").asText()).isEqualTo(dev.tokenbudget.engine.DecisionHeaders.ROUTE);
        assertThat(economy.at("/matches/0/headers/0/value").asText()).isEqualTo(support.degrade().route());
        assertThat(economy.at("/filters/0/requestHeaderModifier/remove").toString()).contains("authorization");
    }

    /**
     * The filter Envoy Gateway v1.9.0 generates from this policy (internal/xds/translator/extproc.go,
     * extProcConfig and buildProcessingMode): headers SEND where request/response are present, the
     * request body BUFFERED, no response body, trailers SKIP, allow_mode_override without an
     * allowed list, message_timeout from messageTimeout, no max_message_timeout, no mutation_rules.
     * A whole exchange through EnvoyRules with that filter is admitted, metered and settled.
     */
    @Test
    void theFilterEnvoyGatewayGeneratesWorksWithTheProcessor() throws Exception {
        JsonNode ext = one("EnvoyExtensionPolicy").at("/spec/extProc/0");
        ExternalProcessor generated = ExternalProcessor.newBuilder()
                .setGrpcService(GrpcService.newBuilder().setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder()
                        .setClusterName("envoyextensionpolicy/llm/tokenbudget/extproc/0")))
                .setProcessingMode(ProcessingMode.newBuilder()
                        .setRequestHeaderMode(HeaderSendMode.SEND).setRequestBodyMode(BodySendMode.BUFFERED)
                        .setRequestTrailerMode(HeaderSendMode.SKIP)
                        .setResponseHeaderMode(HeaderSendMode.SEND).setResponseBodyMode(BodySendMode.NONE)
                        .setResponseTrailerMode(HeaderSendMode.SKIP))
                .setFailureModeAllow(ext.path("failOpen").asBoolean())
                .setAllowModeOverride(ext.at("/processingMode/allowModeOverride").asBoolean())
                .setMessageTimeout(Durations.fromNanos(Quantities.duration(ext.path("messageTimeout").asText()).toNanos()))
                .build();
        GatewayFixture g = GatewayFixture.promptsInTheConfig();
        try (ExtProcFixture fx = new ExtProcFixture(g.engine, g.gateway, new EnvoyRules(generated,
                g.engine.clock::nanoTime))) {
            try (EnvoyStream s = fx.stream()) {
                var a = EnvoySequences.full(s, "/v1/chat/completions", bearer(GatewayFixture.MAIN),
                        payload("openai-chat-stream-request.json"), "text/event-stream",
                        payload("openai-chat-stream.sse"), 6);
                assertThat(a.responseHeaders().hasModeOverride()).isTrue();
                assertThat(s.envoy().responseBodyMode()).isEqualTo(BodySendMode.STREAMED);
                assertThat(s.awaitClosed().getCode()).isEqualTo(Status.Code.OK);
            }
            fx.awaitNoOpenStreams();
            assertThat(fx.used("org")).isEqualTo(842 + 31);
        }
    }

    private static String[] args(JsonNode container) {
        List<String> out = new ArrayList<>();
        container.path("args").forEach(a -> out.add(a.asText()));
        return out.toArray(String[]::new);
    }

    /** The container's {@code --flag=value} arguments. */
    private static Map<String, String> flags(JsonNode container) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String a : args(container)) {
            int eq = a.indexOf('=');
            out.put(eq < 0 ? a : a.substring(0, eq), eq < 0 ? "" : a.substring(eq + 1));
        }
        return out;
    }

    /** A Kubernetes quantity in binary units (Ki, Mi, Gi) or plain bytes. */
    private static long bytes(String q) {
        Map<String, Long> units = Map.of("Ki", 1L << 10, "Mi", 1L << 20, "Gi", 1L << 30);
        for (var u : units.entrySet()) {
            if (q.endsWith(u.getKey())) {
                return Long.parseLong(q.substring(0, q.length() - 2)) * u.getValue();
            }
        }
        return Long.parseLong(q);
    }
}
