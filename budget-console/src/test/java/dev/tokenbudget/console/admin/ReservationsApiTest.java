package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.tokenbudget.console.admin.AdminApiTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

class ReservationsApiTest {

    /** A small working reservation service: holds reservations per budget, refuses more than 100M at once. */
    static final class Holds implements ReservationService {
        final Map<String, List<Reservation>> byBudget = new ConcurrentHashMap<>();
        final AtomicInteger ids = new AtomicInteger();

        @Override
        public Reservation create(String budgetId, Request r) {
            if (r.tokens() > 100_000_000) {
                throw new IllegalArgumentException("budget '" + budgetId + "' has room for at most 100M reserved");
            }
            Reservation x = new Reservation("r" + ids.incrementAndGet(), budgetId, r.window() == null ? "month"
                    : r.window(), r.tokens(), r.from(), r.until(), r.note(), Instant.EPOCH);
            byBudget.computeIfAbsent(budgetId, k -> new ArrayList<>()).add(x);
            return x;
        }

        @Override
        public Optional<Reservation> cancel(String budgetId, String id) {
            List<Reservation> l = byBudget.getOrDefault(budgetId, new ArrayList<>());
            Optional<Reservation> x = l.stream().filter(r -> r.id().equals(id)).findFirst();
            x.ifPresent(l::remove);
            return x;
        }

        @Override
        public List<Reservation> list(String budgetId) {
            return List.copyOf(byBudget.getOrDefault(budgetId, List.of()));
        }
    }

    @Test
    void answers501WithAClearErrorOnAHostWithoutReservations() {
        try (AdminFixture f = new AdminFixture()) {
            assertError(f.send("POST", "/v1/budgets/support/reservations", "{\"tokens\":\"60M\"}", AdminFixture.TOKEN),
                    501, "no reservation service");
            assertError(f.send("DELETE", "/v1/budgets/support/reservations/r1", null, AdminFixture.TOKEN), 501,
                    "reservations_unavailable");
            assertError(f.send("DELETE", "/v1/budgets/support/reservations", null, AdminFixture.TOKEN), 501,
                    "reservations_unavailable");
            assertError(f.get("/v1/budgets/support/reservations"), 501, "reservations_unavailable");
        }
    }

    @Test
    void createsListsAndCancelsThroughTheHostsServiceRecordingEachInTheLedger() {
        Holds holds = new Holds();
        try (AdminFixture f = new AdminFixture(AdminFixture.exampleConfig(), b -> b.reservations(holds))) {
            var created = f.send("POST", "/v1/budgets/support/reservations", """
                    {"window":"month","tokens":"60M","from":"2026-11-24T00:00:00Z","until":"2026-12-01T00:00:00Z",
                     "note":"last week of the month for the launch"}""", AdminFixture.TOKEN);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            JsonNode r = f.json(created);
            assertThat(r.path("id").asText()).isEqualTo("r1");
            assertThat(r.path("tokens").asLong()).isEqualTo(60_000_000);
            assertThat(r.path("from").asText()).isEqualTo("2026-11-24T00:00:00Z");
            assertThat(holds.list("support")).hasSize(1);

            assertThat(f.ok("/v1/budgets/support/reservations").path("reservations")).hasSize(1);

            assertError(f.send("POST", "/v1/budgets/support/reservations", "{\"tokens\":200000000}",
                    AdminFixture.TOKEN), 422, "room for at most 100M");
            assertError(f.send("POST", "/v1/budgets/support/reservations", "{\"tokens\":0}", AdminFixture.TOKEN), 400,
                    "tokens: required");
            assertError(f.send("POST", "/v1/budgets/support/reservations", "{\"tokens\":5,\"from\":\"monday\"}",
                    AdminFixture.TOKEN), 400, "from: must be an ISO-8601 instant");
            assertError(f.send("POST", "/v1/budgets/nope/reservations", "{\"tokens\":5}", AdminFixture.TOKEN), 404,
                    "no budget 'nope'");
            assertError(f.send("DELETE", "/v1/budgets/support/reservations", null, AdminFixture.TOKEN), 400,
                    "name the reservation");
            assertError(f.send("DELETE", "/v1/budgets/support/reservations/r9", null, AdminFixture.TOKEN), 404,
                    "no reservation 'r9'");

            var cancelled = f.send("DELETE", "/v1/budgets/support/reservations/r1", null, AdminFixture.TOKEN);
            assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
            assertThat(holds.list("support")).isEmpty();

            JsonNode ledger = f.ok("/v1/ledger?budget=support").path("entries");
            assertThat(ledger).hasSize(2);
            assertThat(ledger.get(0).path("kind").asText()).isEqualTo("reservation_created");
            assertThat(ledger.get(0).path("after").path("tokens").asLong()).isEqualTo(60_000_000);
            assertThat(ledger.get(0).path("reason").asText()).isEqualTo("last week of the month for the launch");
            assertThat(ledger.get(1).path("kind").asText()).isEqualTo("reservation_cancelled");
            assertThat(ledger.get(1).path("before").path("tokens").asLong()).isEqualTo(60_000_000);
            assertThat(f.ok("/v1/ledger?since=1").path("entries")).hasSize(1);
        }
    }
}
