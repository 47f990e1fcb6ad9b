package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.config.Quantities;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.ledger.Ledger;
import dev.tokenbudget.ledger.LedgerChange;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Set;

/**
 * {@code /v1/budgets/{id}/reservations}: tokens held for a budget over a period, through the host's
 * {@link ReservationService}; 501 on a host without one.
 */
final class ReservationsApi {

    private static final Set<String> FIELDS = Set.of("window", "tokens", "from", "until", "note");

    private final BudgetEngine engine;
    private final ReservationService service;
    private final BudgetsApi budgets;
    private final Ledger ledger;
    private final ObjectMapper json;

    ReservationsApi(BudgetEngine engine, ReservationService service, BudgetsApi budgets, Ledger ledger,
                    ObjectMapper json) {
        this.engine = engine;
        this.service = service;
        this.budgets = budgets;
        this.ledger = ledger;
        this.json = json;
    }

    void register(Routes routes) {
        routes.add("GET", "/v1/budgets/{id}/reservations", this::list)
                .add("POST", "/v1/budgets/{id}/reservations", this::create)
                .add("DELETE", "/v1/budgets/{id}/reservations", this::deleteWithoutId)
                .add("DELETE", "/v1/budgets/{id}/reservations/{reservation}", this::cancel);
    }

    private ReservationService service() {
        if (service == null) {
            throw new ApiException(501, "reservations_unavailable", "this host has no reservation service: "
                    + "reservations come with the allocation engine (cross-team allocation); until then budgets "
                    + "hold no reserved tokens");
        }
        return service;
    }

    private Routes.Reply list(ApiRequest r) {
        ReservationService s = service();
        String id = budgets.status(r.id("id")).budgetId();
        ObjectNode n = json.createObjectNode();
        n.put("budget_id", id);
        ArrayNode a = n.putArray("reservations");
        s.list(id).forEach(x -> a.add(view(x)));
        return Routes.Reply.ok(n);
    }

    private Routes.Reply create(ApiRequest r) {
        ReservationService s = service();
        String id = budgets.status(r.id("id")).budgetId();
        JsonNode body = r.jsonObject(json);
        BudgetsApi.unknownFields(body, FIELDS, "");
        JsonNode tokens = body.get("tokens");
        long t;
        try {
            t = tokens != null && tokens.isIntegralNumber() ? tokens.asLong()
                    : tokens != null && tokens.isTextual() ? Quantities.tokens(tokens.asText()) : -1;
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("tokens: " + e.getMessage());
        }
        if (t <= 0) {
            throw ApiException.badRequest("tokens: required, a whole number of tokens > 0 such as 60000000 or \"60M\"");
        }
        ReservationService.Request req = new ReservationService.Request(text(body, "window"), t,
                instant(body, "from"), instant(body, "until"), text(body, "note"));
        ReservationService.Reservation made;
        try {
            made = s.create(id, req);
        } catch (IllegalArgumentException e) {
            throw new ApiException(422, "reservation_refused", Json.clip(e.getMessage()));
        }
        ledger.append(engine.clock().now(), new LedgerChange(LedgerChange.Kind.RESERVATION_CREATED, id, made.window(),
                Map.of(), Map.of("tokens", made.tokens()), "admin-api " + r.caller(), made.note(),
                "reservation:" + made.id() + ":created"));
        return new Routes.Reply(201, view(made));
    }

    private Routes.Reply deleteWithoutId(ApiRequest r) {
        service();
        budgets.status(r.id("id"));
        throw ApiException.badRequest("name the reservation to cancel: DELETE /v1/budgets/{id}/reservations/"
                + "{reservation}");
    }

    private Routes.Reply cancel(ApiRequest r) {
        ReservationService s = service();
        String id = budgets.status(r.id("id")).budgetId();
        String rid = r.id("reservation");
        ReservationService.Reservation gone = s.cancel(id, rid).orElseThrow(() -> ApiException.notFound(
                "unknown_reservation", "budget '" + id + "' has no reservation '" + rid + "'"));
        ledger.append(engine.clock().now(), new LedgerChange(LedgerChange.Kind.RESERVATION_CANCELLED, id,
                gone.window(), Map.of("tokens", gone.tokens()), Map.of(), "admin-api " + r.caller(), null,
                "reservation:" + gone.id() + ":cancelled"));
        return Routes.Reply.ok(view(gone));
    }

    private ObjectNode view(ReservationService.Reservation x) {
        ObjectNode n = json.createObjectNode();
        n.put("id", x.id());
        n.put("budget_id", x.budgetId());
        n.put("window", x.window());
        n.put("tokens", x.tokens());
        n.put("from", x.from() == null ? null : x.from().toString());
        n.put("until", x.until() == null ? null : x.until().toString());
        n.put("note", x.note());
        n.put("created_at", x.createdAt() == null ? null : x.createdAt().toString());
        return n;
    }

    private static String text(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual() || n.asText().length() > 500) {
            throw ApiException.badRequest(field + ": must be text of at most 500 characters");
        }
        return n.asText();
    }

    private static Instant instant(JsonNode body, String field) {
        String s = text(body, field);
        try {
            return s == null ? null : Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest(field + ": must be an ISO-8601 instant such as 2026-11-24T00:00:00Z, was '"
                    + Json.clip(s) + "'");
        }
    }
}
