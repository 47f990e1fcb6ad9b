package dev.tokenbudget.envoy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads an Envoy static bootstrap the way Envoy does: YAML to JSON to {@link Bootstrap} through
 * protobuf's JSON parser, which rejects unknown fields and enum values, with a type registry for
 * every {@code typed_config} the example uses.
 */
final class EnvoyBootstrapFile {

    static final JsonFormat.TypeRegistry TYPES = JsonFormat.TypeRegistry.newBuilder()
            .add(HttpConnectionManager.getDescriptor())
            .add(ExternalProcessor.getDescriptor())
            .add(ExtProcPerRoute.getDescriptor())
            .add(Router.getDescriptor())
            .add(HttpProtocolOptions.getDescriptor())
            .add(UpstreamTlsContext.getDescriptor())
            .add(StdoutAccessLog.getDescriptor())
            .build();

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();

    private EnvoyBootstrapFile() {
    }

    /** The repository's examples/envoy/envoy.yaml, found from the module or the repository root. */
    static Path example() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path p = dir.resolve("examples/envoy/envoy.yaml");
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IllegalStateException("examples/envoy/envoy.yaml not found above " + Path.of("").toAbsolutePath());
    }

    static Bootstrap parse(String yaml) throws IOException {
        JsonNode tree = YAML.readTree(yaml);
        Bootstrap.Builder b = Bootstrap.newBuilder();
        try {
            JsonFormat.parser().usingTypeRegistry(TYPES).merge(JSON.writeValueAsString(tree), b);
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("not a valid envoy.config.bootstrap.v3.Bootstrap: " + e.getMessage(), e);
        }
        return b.build();
    }
}
