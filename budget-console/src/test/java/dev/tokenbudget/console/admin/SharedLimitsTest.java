package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.store.redis.TestRedis;
import dev.tokenbudget.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Two gateway instances on one Redis: a limit changed through one admin API holds on the other. */
class SharedLimitsTest {

    private final String prefix = TestRedis.uniquePrefix("admin-limits");
    private final List<AdminFixture> instances = new ArrayList<>();

    @AfterEach
    void stop() {
        instances.forEach(AdminFixture::close);
        TestRedis.deleteKeys(prefix);
    }

    private AdminFixture instance() {
        return instance(TestRedis.uri());
    }

    private AdminFixture instance(String redisUri) {
        AdminFixture f = new AdminFixture(AdminFixture.START, """
                store:
                  type: redis
                  redis: { uri: %s, timeout: 2s, key_prefix: %s }
                budgets:
                  - id: org
                    windows: [{ period: month, limits: { total: 1M } }]
                keys:
                  - { name: k, sha256: %s, budget: org }
                """.formatted(redisUri, prefix, KeyHash.of("k-secret-0123")),
                b -> b.limitsSyncInterval(Duration.ofMillis(50)));
        instances.add(f);
        return f;
    }

    private static long limit(AdminFixture f) {
        return f.ok("/v1/budgets/org").path("windows").get(0).path("limits").path("total").asLong();
    }

    @Test
    void aLimitChangedOnOneInstanceIsInForceOnTheOtherWithinItsSyncInterval() throws Exception {
        AdminFixture a = instance();
        AdminFixture b = instance();
        HttpResponse<String> put = a.send("PUT", "/v1/budgets/org/limits", "{\"limits\":{\"total\":\"250k\"}}",
                AdminFixture.TOKEN);
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(limit(a)).isEqualTo(250_000);

        // b's sync thread picks it up; bounded wait for the condition, not a timing claim
        Poll.until(Duration.ofSeconds(30), Duration.ofMillis(50), () -> limit(b) == 250_000);
        assertThat(limit(b)).isEqualTo(250_000);
        JsonNode events = b.ok("/v1/events?type=limits_changed").path("events");
        assertThat(events).hasSize(1);
        assertThat(events.get(0).path("after").path("total").asLong()).isEqualTo(250_000);
        // the ledger is the store's: the change is recorded once and every instance reads it
        assertThat(a.ok("/v1/ledger").path("entries")).hasSize(1);
        assertThat(b.ok("/v1/ledger").path("entries")).hasSize(1);
        assertThat(b.ok("/v1/ledger").path("entries").get(0).path("after").path("total").asLong()).isEqualTo(250_000);
    }

    @Test
    void withTheStoreDownLimitChangesAndStatusAnswer503AndChangeNothing() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        AdminFixture down = instance("redis://127.0.0.1:" + port);
        AdminApiTest.assertError(down.send("PUT", "/v1/budgets/org/limits", "{\"limits\":{\"total\":5}}",
                AdminFixture.TOKEN), 503, "store_unavailable");
        AdminApiTest.assertError(down.get("/v1/budgets/org"), 503, "cannot be read right now");
        // the ledger lives in the store too: it cannot be read (nor written) while the store is down
        AdminApiTest.assertError(down.get("/v1/ledger"), 503, "store_unavailable");
        assertThat(down.engine.config().budgets().get("org").orElseThrow().windows().get(0).limits().total())
                .isEqualTo(1_000_000);
    }
}
