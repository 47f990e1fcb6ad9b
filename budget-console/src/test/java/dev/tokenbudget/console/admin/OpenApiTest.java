package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** Keeps openapi.json in step with the route table, both ways. */
class OpenApiTest {

    @Test
    void describesEveryRouteAndNothingElse() {
        try (AdminFixture f = new AdminFixture()) {
            JsonNode api = f.ok("/v1/openapi.json");
            Set<String> routed = new TreeSet<>();
            f.server.routes().forEach(r -> routed.add(r.method() + " " + r.template()));
            Set<String> described = new TreeSet<>();
            for (Iterator<String> paths = api.path("paths").fieldNames(); paths.hasNext(); ) {
                String p = paths.next();
                for (Iterator<String> ms = api.path("paths").path(p).fieldNames(); ms.hasNext(); ) {
                    described.add(ms.next().toUpperCase(Locale.ROOT) + " " + p);
                }
            }
            assertThat(described).isEqualTo(routed);
        }
    }

    @Test
    void everyOperationIsSecuredHasAnIdAndEveryReferenceResolves() {
        try (AdminFixture f = new AdminFixture()) {
            JsonNode api = f.ok("/v1/openapi.json");
            assertThat(api.path("openapi").asText()).isEqualTo("3.1.0");
            assertThat(api.path("components").path("securitySchemes").path("bearer").path("scheme").asText())
                    .isEqualTo("bearer");
            Set<String> ids = new HashSet<>();
            api.path("paths").forEach(item -> item.forEach(op -> {
                assertThat(ids.add(op.path("operationId").asText())).as("unique operationId").isTrue();
                assertThat(op.path("responses").has("401")).as(op.path("operationId").asText() + " documents 401")
                        .isTrue();
            }));
            assertThat(api.path("security").get(0).has("bearer")).isTrue();
            checkRefs(api, api);
        }
    }

    private static void checkRefs(JsonNode root, JsonNode n) {
        if (n.isObject()) {
            JsonNode ref = n.get("$ref");
            if (ref != null) {
                String name = ref.asText().replace("#/components/schemas/", "");
                assertThat(root.path("components").path("schemas").has(name)).as("schema " + name).isTrue();
            }
            n.forEach(c -> checkRefs(root, c));
        } else if (n.isArray()) {
            n.forEach(c -> checkRefs(root, c));
        }
    }
}
