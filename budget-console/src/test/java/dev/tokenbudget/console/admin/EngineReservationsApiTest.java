package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.store.BindingCause;
import org.junit.jupiter.api.Test;

import static dev.tokenbudget.console.admin.AdminApiTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin API's reservations on a config that allocates: served by the allocation engine
 * (EngineReservations), enforced at once, and recorded once in the store's ledger.
 */
class EngineReservationsApiTest {

    private static final String CONFIG = """
            defaults: { zone: UTC }
            budgets:
              - id: workspace
                windows: [{ period: month, limits: { total: 1000 } }]
                allocation: {}
              - { id: support, parent: workspace, windows: [{ period: month, limits: { total: 600 } }] }
              - { id: internal, parent: workspace, windows: [{ period: month, limits: { total: 600 } }] }
            keys:
              - { name: support, sha256: %s, budget: support }
              - { name: internal, sha256: %s, budget: internal }
            """.formatted(KeyHash.of("sk-support"), KeyHash.of("sk-internal"));

    private static Ticket reserve(AdminFixture f, String key, long tokens) {
        return f.engine.reserve(new BudgetRequest(f.engine.authenticate(key).orElseThrow(), null, null, "m", tokens,
                0));
    }

    @Test
    void aReservationForSupportKeepsItsParentsTokensFromItsSiblingUntilCancelled() {
        try (AdminFixture f = new AdminFixture(CONFIG, b -> { })) {
            var created = f.send("POST", "/v1/budgets/support/reservations",
                    "{\"tokens\":500,\"note\":\"support launch\"}", AdminFixture.TOKEN);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            JsonNode r = f.json(created);
            String id = r.path("id").asText();
            assertThat(r.path("budget_id").asText()).isEqualTo("support");
            assertThat(r.path("window").asText()).isEqualTo("month");
            assertThat(r.path("until").asText()).isEqualTo("2026-12-01T00:00:00Z");

            // internal may have its own 600, but only 1000 − 500 held for support = 500 of the workspace
            Ticket refused = reserve(f, "sk-internal", 501);
            assertThat(refused.decision().outcome()).isEqualTo(Decision.Outcome.REJECT);
            assertThat(refused.decision().allocation().cause()).isEqualTo(BindingCause.HOLD);
            assertThat(reserve(f, "sk-support", 400).decision().allocation().usedHold()).isTrue();
            // support used 400 of its 500: 100 stay held, so internal's 600 do not fit (400 + 600 + 100 > 1000)
            assertThat(reserve(f, "sk-internal", 600).decision().allocation().cause()).isEqualTo(BindingCause.HOLD);
            assertThat(f.ok("/v1/budgets/support/reservations").path("reservations")).hasSize(1);
            assertThat(f.ok("/v1/budgets/internal/reservations").path("reservations")).isEmpty();

            assertError(f.send("POST", "/v1/budgets/support/reservations",
                    "{\"tokens\":5,\"from\":\"2026-11-20T00:00:00Z\"}", AdminFixture.TOKEN), 422, "starts when it is made");
            assertError(f.send("POST", "/v1/budgets/workspace/reservations", "{\"tokens\":5}", AdminFixture.TOKEN), 422,
                    "is a root");

            var cancelled = f.send("DELETE", "/v1/budgets/support/reservations/" + id, null, AdminFixture.TOKEN);
            assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
            assertThat(reserve(f, "sk-internal", 600).decision().admitted()).isTrue();
            assertError(f.send("DELETE", "/v1/budgets/support/reservations/" + id, null, AdminFixture.TOKEN), 404,
                    "no reservation");

            // the engine recorded each in the store's ledger; the admin API's own records are the same entries
            JsonNode ledger = f.ok("/v1/ledger").path("entries");
            assertThat(ledger).hasSize(2);
            assertThat(ledger.get(0).path("kind").asText()).isEqualTo("reservation_created");
            assertThat(ledger.get(0).path("budget_id").asText()).isEqualTo("support");
            assertThat(ledger.get(0).path("after").path("total").asLong()).isEqualTo(500);
            assertThat(ledger.get(0).path("idempotency_key").asText()).isEqualTo("reservation:" + id + ":created");
            assertThat(ledger.get(0).path("reason").asText()).startsWith("support launch");
            assertThat(ledger.get(1).path("kind").asText()).isEqualTo("reservation_cancelled");
        }
    }
}
