package dev.tokenbudget.scg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** IDEs complete tokenbudget.* from the metadata the configuration processor generates at build time. */
class ConfigurationMetadataTest {

    @Test
    void everyPropertyIsDescribedForIdeCompletion() throws Exception {
        JsonNode metadata;
        try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("generated metadata on the classpath").isNotNull();
            metadata = new ObjectMapper().readTree(in);
        }
        List<String> names = new ArrayList<>();
        for (JsonNode p : metadata.get("properties")) {
            names.add(p.get("name").asText());
            assertThat(p.path("description").asText()).as("description of %s", p.get("name")).isNotBlank();
        }
        assertThat(names).contains("tokenbudget.config", "tokenbudget.max-body-size", "tokenbudget.default-provider",
                "tokenbudget.routes", "tokenbudget.redispatch-on-degrade", "tokenbudget.lease-sweep-interval");
    }
}
