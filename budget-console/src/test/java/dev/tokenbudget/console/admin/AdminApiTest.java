package dev.tokenbudget.console.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin API over real HTTP on loopback, against an engine with usage. */
class AdminApiTest {

    private AdminFixture f;

    @BeforeEach
    void start() {
        f = new AdminFixture();
        for (int i = 0; i < 4; i++) {
            f.spend(AdminFixture.SUPPORT_KEY, 25_000_000, 5_000_000);
        }
        f.spend(AdminFixture.AGENTS_KEY, 1_200_000, 400_000);
    }

    @AfterEach
    void stop() {
        f.close();
    }

    private static List<String> texts(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.path(field).asText()));
        return out;
    }

    @Test
    void listsTheTreeDepthFirstWithKeyBudgetsUnderTheirParent() {
        JsonNode list = f.ok("/v1/budgets");
        JsonNode budgets = list.path("budgets");
        assertThat(texts(budgets, "id")).containsExactly("acme", "support", "support-copilot", "internal",
                "internal-agents", "key:agents");
        assertThat(texts(budgets, "depth")).containsExactly("0", "1", "2", "1", "2", "2");
        assertThat(list.path("at").asText()).isEqualTo(AdminFixture.START.toString());
        JsonNode acme = budgets.get(0);
        assertThat(acme.path("windows").get(0).path("used").path("total").asLong()).isEqualTo(121_600_000);
        assertThat(acme.path("utilisation").asDouble()).isEqualTo(0.1216);
        assertThat(texts(acme.path("children"), "")).hasSize(2);
    }

    @Test
    void showsOneBudgetsWindowsLimitsUsageStateAndThresholds() {
        JsonNode support = f.ok("/v1/budgets/support");
        assertThat(support.path("id").asText()).isEqualTo("support");
        assertThat(support.path("parent").asText()).isEqualTo("acme");
        // 120M of a 150M rolling week: past the 75% alert
        assertThat(support.path("state").asText()).isEqualTo("warning");
        assertThat(texts(support.path("thresholds"), "policy")).containsExactly("alert_only", "degrade_route",
                "degrade_route");
        JsonNode month = support.path("windows").get(0);
        assertThat(month.path("name").asText()).isEqualTo("month");
        assertThat(month.path("key").asText()).isEqualTo("month:2026-11");
        assertThat(month.path("period").asText()).isEqualTo("month");
        assertThat(month.path("zone").asText()).isEqualTo("Europe/Berlin");
        assertThat(month.path("start").asText()).isEqualTo("2026-10-31T23:00:00Z");
        assertThat(month.path("end").asText()).isEqualTo("2026-11-30T23:00:00Z");
        assertThat(month.path("limits").path("total").asLong()).isEqualTo(400_000_000);
        assertThat(month.path("limits").path("input").isNull()).isTrue();
        assertThat(month.path("used").path("input").asLong()).isEqualTo(100_000_000);
        assertThat(month.path("used").path("output").asLong()).isEqualTo(20_000_000);
        assertThat(month.path("reserved").path("total").asLong()).isZero();
        assertThat(month.path("remaining").path("total").asLong()).isEqualTo(280_000_000);
        assertThat(month.path("utilisation").asDouble()).isEqualTo(0.3);
        assertThat(month.path("state").asText()).isEqualTo("ok");
        // the engine's forecaster with no history yet projects nothing beyond what is used
        assertThat(month.path("forecast").path("method").asText()).isEqualTo("no_history");
        assertThat(month.path("forecast").path("expected").asLong()).isEqualTo(120_000_000);
        // the example config names claude-opus-4-7, claude-haiku-4-5, gpt-4.1 and gpt-4.1-mini (dated
        // default prices): 100M input + 20M output at $0.40/$1.60 (gpt-4.1-mini) to $5/$25 (opus) per million
        JsonNode dollars = month.path("dollars");
        assertThat(dollars.path("cheapest_model").asText()).isEqualTo("gpt-4.1-mini");
        assertThat(dollars.path("low").asDouble()).isEqualTo(72.0);
        assertThat(dollars.path("dearest_model").asText()).isEqualTo("claude-opus-4-7");
        assertThat(dollars.path("high").asDouble()).isEqualTo(1000.0);
        JsonNode week = support.path("windows").get(1);
        assertThat(week.path("name").asText()).isEqualTo("rolling-7d");
        assertThat(week.path("length_seconds").asLong()).isEqualTo(7 * 86_400);
        assertThat(week.path("utilisation").asDouble()).isEqualTo(0.8);
        assertThat(week.path("state").asText()).isEqualTo("warning");
    }

    @Test
    void reservedTokensOfRequestsInFlightShowAsReserved() {
        var key = f.engine.authenticate(AdminFixture.AGENTS_KEY).orElseThrow();
        f.engine.reserve(new BudgetRequest(key, null, null, "m", 1000, 300));
        JsonNode w = f.ok("/v1/budgets/internal-agents").path("windows").get(0);
        assertThat(w.path("reserved").path("total").asLong()).isEqualTo(1300);
        assertThat(w.path("remaining").path("total").asLong()).isEqualTo(5_000_000 - 1_600_000 - 1300);
    }

    @Test
    void aKeysOwnBudgetIsListedAndReadable() {
        JsonNode k = f.ok("/v1/budgets/key%3Aagents");
        assertThat(k.path("kind").asText()).isEqualTo("key");
        assertThat(k.path("parent").asText()).isEqualTo("internal");
        assertThat(k.path("windows").get(0).path("utilisation").asDouble()).isEqualTo(0.8);
        assertThat(k.path("state").asText()).isEqualTo("warning");
    }

    @Test
    void changingLimitsTakesEffectOnTheNextRequestAndIsRecordedInTheLedgerAndEvents() {
        var key = f.engine.authenticate(AdminFixture.AGENTS_KEY).orElseThrow();
        assertThat(f.engine.reserve(new BudgetRequest(key, null, null, "m", 50_000, 50_000)).decision().outcome())
                .isEqualTo(Decision.Outcome.ALLOW);

        HttpResponse<String> put = f.send("PUT", "/v1/budgets/internal-agents/limits",
                "{\"window\":\"day\",\"limits\":{\"total\":\"1M\"},\"reason\":\"agents loop incident\"}",
                AdminFixture.TOKEN);
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        JsonNode res = f.json(put);
        assertThat(res.path("before").path("total").asLong()).isEqualTo(5_000_000);
        assertThat(res.path("after").path("total").asLong()).isEqualTo(1_000_000);
        assertThat(res.path("budget").path("state").asText()).isEqualTo("blocked");

        // 1.7M already committed against the new 1M: the next request is refused
        Decision d = f.engine.reserve(new BudgetRequest(key, null, null, "m", 1000, 1000)).decision();
        assertThat(d.outcome()).isEqualTo(Decision.Outcome.REJECT);
        assertThat(d.bindingBudget()).isEqualTo("internal-agents");

        JsonNode ledger = f.ok("/v1/ledger").path("entries");
        assertThat(ledger).hasSize(1);
        JsonNode e = ledger.get(0);
        assertThat(e.path("seq").asLong()).isEqualTo(res.path("ledger_seq").asLong()).isEqualTo(1);
        assertThat(e.path("kind").asText()).isEqualTo("limits_changed");
        assertThat(e.path("budget_id").asText()).isEqualTo("internal-agents");
        assertThat(e.path("window").asText()).isEqualTo("day");
        assertThat(e.path("before").path("total").asLong()).isEqualTo(5_000_000);
        assertThat(e.path("after").path("total").asLong()).isEqualTo(1_000_000);
        assertThat(e.path("actor").asText()).isEqualTo("admin-api 127.0.0.1");
        assertThat(e.path("reason").asText()).isEqualTo("agents loop incident");

        JsonNode events = f.ok("/v1/events?type=limits_changed").path("events");
        assertThat(events).hasSize(1);
        assertThat(events.get(0).path("budget_id").asText()).isEqualTo("internal-agents");
        assertThat(events.get(0).path("before").path("total").asLong()).isEqualTo(5_000_000);
        assertThat(events.get(0).path("after").path("total").asLong()).isEqualTo(1_000_000);
    }

    @Test
    void limitsLeftOutBecomeUnlimitedAndTheOnlyWindowNeedsNoName() {
        HttpResponse<String> put = f.send("PUT", "/v1/budgets/support-copilot/limits",
                "{\"limits\":{\"output\":60000000}}", AdminFixture.TOKEN);
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        JsonNode limits = f.ok("/v1/budgets/support-copilot").path("windows").get(0).path("limits");
        assertThat(limits.path("input").isNull()).isTrue();
        assertThat(limits.path("output").asLong()).isEqualTo(60_000_000);
    }

    @Test
    void refusesBadLimitChangesNamingTheField() {
        assertError(f.send("PUT", "/v1/budgets/support/limits", "{\"limits\":{\"total\":5}}", AdminFixture.TOKEN),
                400, "window: required, budget 'support' has windows [month, rolling-7d]");
        assertError(f.send("PUT", "/v1/budgets/support/limits", "{\"window\":\"year\",\"limits\":{\"total\":5}}",
                AdminFixture.TOKEN), 400, "has no window 'year'");
        assertError(f.send("PUT", "/v1/budgets/support/limits", "{\"window\":\"month\",\"limits\":{\"total\":-5}}",
                AdminFixture.TOKEN), 400, "limits.total: must be > 0");
        assertError(f.send("PUT", "/v1/budgets/support/limits", "{\"window\":\"month\",\"limits\":{\"total\":\"lots\"}}",
                AdminFixture.TOKEN), 400, "limits.total: must be a whole number of tokens");
        assertError(f.send("PUT", "/v1/budgets/support/limits", "{\"window\":\"month\",\"limits\":{}}",
                AdminFixture.TOKEN), 400, "at least one of input, output, total");
        assertError(f.send("PUT", "/v1/budgets/support/limits", "{\"window\":\"month\",\"limit\":{\"total\":5}}",
                AdminFixture.TOKEN), 400, "limit: unknown field");
        assertError(f.send("PUT", "/v1/budgets/support/limits", "{\"window\":\"month\",\"limits\":{\"totl\":5}}",
                AdminFixture.TOKEN), 400, "limits.totl: unknown field");
        assertError(f.send("PUT", "/v1/budgets/support/limits", "{\"window\":", AdminFixture.TOKEN), 400,
                "the body is not valid JSON");
        assertError(f.send("PUT", "/v1/budgets/support/limits", "[1,2]", AdminFixture.TOKEN), 400,
                "must be a JSON object");
        assertError(f.send("PUT", "/v1/budgets/support/limits", null, AdminFixture.TOKEN), 400, "needs a JSON object");
        assertError(f.send("PUT", "/v1/budgets/key:agents/limits", "{\"limits\":{\"total\":5}}", AdminFixture.TOKEN),
                409, "set in the config");
        assertError(f.send("PUT", "/v1/budgets/nope/limits", "{\"limits\":{\"total\":5}}", AdminFixture.TOKEN), 404,
                "no budget 'nope'");
        // nothing was changed or recorded
        assertThat(f.ok("/v1/ledger").path("entries")).isEmpty();
        assertThat(f.ok("/v1/budgets/support").path("windows").get(0).path("limits").path("total").asLong())
                .isEqualTo(400_000_000);
    }

    @Test
    void refusesAnOversizedBody() {
        String big = "{\"reason\":\"" + "x".repeat(AdminHandler.MAX_BODY) + "\"}";
        assertError(f.send("PUT", "/v1/budgets/support/limits", big, AdminFixture.TOKEN), 413, "larger than 65536");
    }

    @Test
    void wantsTheBearerTokenOnEveryApiRoute() {
        for (String path : List.of("/v1/budgets", "/v1/budgets/support", "/v1/events", "/v1/ledger",
                "/v1/openapi.json", "/v1/no-such-route")) {
            HttpResponse<String> none = f.send("GET", path, null, null);
            assertError(none, 401, "missing or wrong bearer token");
            assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"tokenbudget\"");
            assertError(f.send("GET", path, null, AdminFixture.TOKEN + "x"), 401, "missing or wrong bearer token");
            assertError(f.send("GET", path, null, AdminFixture.TOKEN.substring(1)), 401, "bearer token");
        }
        HttpResponse<String> basic = f.http.sendAsync(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + f.server.port() + "/v1/budgets"))
                .header("Authorization", "Basic " + AdminFixture.TOKEN).build(),
                HttpResponse.BodyHandlers.ofString()).join();
        assertThat(basic.statusCode()).isEqualTo(401);
        assertThat(f.send("PUT", "/v1/budgets/support/limits", "{\"window\":\"month\",\"limits\":{\"total\":5}}",
                null).statusCode()).isEqualTo(401);
        assertThat(f.ok("/v1/budgets/support").path("windows").get(0).path("limits").path("total").asLong())
                .isEqualTo(400_000_000);
    }

    @Test
    void badIdsUnknownRoutesAndTraversalGetJsonErrorsWithoutStackTraces() {
        assertError(f.get("/v1/budgets/nope"), 404, "no budget 'nope'");
        assertError(f.get("/v1/budgets/..%2f..%2fetc%2fpasswd"), 400, "invalid id");
        assertError(f.get("/v1/budgets/..%2f.."), 400, "invalid id");
        assertError(f.get("/v1/budgets/%2e%2e"), 400, "invalid id");
        assertError(f.get("/v1/budgets/%2e%2e/forecast"), 400, "invalid id");
        assertError(f.get("/v1/budgets/a%2Fb"), 400, "invalid id");
        // a path that is no URI at all is refused by the JDK server before any handler: 400, no trace
        assertThat(f.raw("/v1/budgets/%ZZ")[0]).startsWith("HTTP/1.1 400 ");
        assertThat(f.raw("/v1/budgets/%ZZ")[1]).doesNotContain("\tat ").doesNotContain("dev.tokenbudget.");
        assertRawError("/v1/budgets/../../etc/passwd", 404, "no admin API route");
        assertRawError("/v1/budgets/../forecast", 400, "invalid id");
        assertRawError("/v1/budgets/..", 400, "invalid id");
        assertError(f.get("/v1/budgets/%C3%28"), 400, "not UTF-8");
        assertError(f.get("/v1/budgets/" + "a".repeat(300)), 400, "invalid id");
        assertError(f.get("/v1/budgets/support/nothing"), 404, "no admin API route");
        assertError(f.get("/v1/budgets/"), 400, "invalid id ''");
        assertError(f.get("/v1/nothing"), 404, "no admin API route");
        assertError(f.get("/etc/passwd"), 404, "nothing at /etc/passwd");
        assertError(f.send("DELETE", "/v1/budgets/support", null, AdminFixture.TOKEN), 405, "allowed: GET");
        assertError(f.send("POST", "/v1/budgets/support/limits", "{}", AdminFixture.TOKEN), 405, "allowed: PUT");
        assertError(f.get("/v1/events?limit=0"), 400, "limit must be a whole number >= 1");
        assertError(f.get("/v1/events?since=yesterday"), 400, "since must be a sequence number");
        assertError(f.get("/v1/events?since=2026-13-01T00:00:00Z"), 400, "ISO-8601 instant");
        assertError(f.get("/v1/events?type=nope"), 400, "type must be one of");
        assertError(f.get("/v1/events?limit=1&limit=2"), 400, "given more than once");
        assertError(f.get("/v1/ledger?since=-1"), 400, "since must be a sequence number >= 0");
    }

    @Test
    void listsEventsAfterASequenceOrSinceAnInstantFilteredByBudgetAndType() {
        var key = f.engine.authenticate(AdminFixture.AGENTS_KEY).orElseThrow();
        // fill the key's day: 1.6M of 2M used, 600k more is over its 100% hard stop
        f.engine.reserve(new BudgetRequest(key, null, null, "m", 500_000, 100_000));
        f.clock.advance(Duration.ofMinutes(5));
        f.engine.reserve(new BudgetRequest(key, null, null, "m", 500_000, 100_000));

        JsonNode all = f.ok("/v1/events?type=request_rejected");
        assertThat(all.path("events")).hasSize(2);
        JsonNode first = all.path("events").get(0);
        assertThat(first.path("budget_id").asText()).isEqualTo("key:agents");
        assertThat(first.path("reason").asText()).isEqualTo("budget_exhausted");
        assertThat(first.path("key_name").asText()).isEqualTo("agents");
        assertThat(first.path("retry_after_seconds").asLong()).isPositive();
        long seq = first.path("seq").asLong();

        JsonNode after = f.ok("/v1/events?since=" + seq);
        assertThat(texts(after.path("events"), "seq")).containsExactly(String.valueOf(seq + 1));
        assertThat(after.path("next_since").asLong()).isEqualTo(seq + 1);
        assertThat(f.ok("/v1/events?since=" + (seq + 1)).path("events")).isEmpty();
        assertThat(f.ok("/v1/events?since=" + (seq + 1)).path("next_since").asLong()).isEqualTo(seq + 1);

        JsonNode since = f.ok("/v1/events?since=" + AdminFixture.START.plusSeconds(60));
        assertThat(since.path("events")).hasSize(1);
        assertThat(f.ok("/v1/events?budget=support").path("events").size())
                .isEqualTo(f.ok("/v1/events?budget=support&type=threshold_crossed").path("events").size());
        JsonNode crossed = f.ok("/v1/events?type=threshold_crossed&budget=support").path("events");
        assertThat(texts(crossed, "percent")).containsExactly("75");
        assertThat(crossed.get(0).path("window_key").asText()).isEqualTo("rolling-7d");
        assertThat(f.ok("/v1/events?limit=1").path("events")).hasSize(1);
        assertThat(f.ok("/v1/events").path("last_seq").asLong()).isEqualTo(seq + 1);
    }

    @Test
    void servesTheOpenApiDescription() {
        JsonNode api = f.ok("/v1/openapi.json");
        assertThat(api.path("openapi").asText()).isEqualTo("3.1.0");
    }

    private void assertRawError(String rawPath, int status, String messagePart) {
        String[] r = f.raw(rawPath);
        assertThat(r[0]).as(rawPath + " -> " + r[1]).startsWith("HTTP/1.1 " + status + " ");
        assertThat(r[1]).contains("\"code\"").contains(messagePart).doesNotContain("Exception")
                .doesNotContain("dev.tokenbudget.");
    }

    static void assertError(HttpResponse<String> r, int status, String messagePart) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        assertThat(r.body()).contains("\"code\"").contains(messagePart)
                .doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("dev.tokenbudget.");
    }
}
