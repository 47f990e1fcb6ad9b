package dev.tokenbudget.apisix;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** With tokenbudget.apisix.admin-port set, the plugin serves the admin API over its engine on loopback. */
class GatewaysAdminTest {

    @Test
    void theFirstEngineLoadedIsServedOnTheAdminPortBehindAToken(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("tb.yaml");
        Files.write(config, FakeUpstream.resource("/tokenbudget-apisix.yaml"));
        try (Gateways gateways = new Gateways(0, java.util.Map.of(), () -> false)) {
            assertThat(gateways.admin()).isNull();
            gateways.get(config);
            assertThat(gateways.admin()).isNotNull();
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + gateways.admin().port() + "/v1/budgets")).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(401);
        }
    }
}
