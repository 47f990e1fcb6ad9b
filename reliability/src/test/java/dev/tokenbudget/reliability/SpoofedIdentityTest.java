package dev.tokenbudget.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.store.TokenCounts;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client cannot choose whom it charges: the budgets come from its virtual key. Naming another
 * tenant's feature, an ancestor, a sibling, a key or user budget is refused (403) without charging
 * anything; headers the engine does not read change nothing; a user id is scoped to the key that
 * sent it, so two tenants' users of the same name never share a budget.
 */
class SpoofedIdentityTest extends AbuseGatewayTestBase {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Http.Response chat(String key, String... headers) {
        List<String> h = new ArrayList<>(List.of("Authorization", "Bearer " + key));
        h.addAll(List.of(headers));
        return Http.post(url("/v1/chat/completions"), Http.chat("spoof", 200, false), h.toArray(String[]::new));
    }

    @Test
    void aFeatureOutsideTheKeysOwnListIsForbiddenAndChargesNothing() throws IOException {
        Map<String, TokenCounts> before = Map.of("tenant-a", charged("tenant-a"), "tenant-b", charged("tenant-b"),
                "b-chat", charged("b-chat"), "a-chat", charged("a-chat"), "a-search", charged("a-search"));
        // another tenant's feature and root, a sibling, an ancestor, another key's own budget, a user
        // budget, a budget that does not exist, and a look-alike with trailing junk
        List<String[]> attempts = List.of(new String[] {KEY_A, "b-chat"}, new String[] {KEY_A, "tenant-b"},
                new String[] {KEY_A_CHAT, "a-search"}, new String[] {KEY_A_CHAT, "tenant-a"},
                new String[] {KEY_A, "key:leak"}, new String[] {KEY_A, "user:b:bob"}, new String[] {KEY_A, "nope"},
                new String[] {KEY_A, "a-chat,b-chat"}, new String[] {KEY_B, "a-chat"});
        for (String[] a : attempts) {
            Http.Response r = chat(a[0], "x-tokenbudget-feature", a[1]);
            assertThat(r.status()).as("feature %s", a[1]).isEqualTo(403);
            JsonNode error = JSON.readTree(r.body()).get("error");
            assertThat(error.get("code").asText()).isEqualTo("feature_not_allowed");
            assertThat(r.header("x-tokenbudget-budget")).as("the refusal names the key's own budget")
                    .isIn("tenant-a", "a-chat", "tenant-b");
        }
        assertThat(OPENAI.exchanges()).as("no refused request reached the provider").isEmpty();
        before.forEach((budget, counts) -> assertThat(charged(budget)).as(budget).isEqualTo(counts));
    }

    @Test
    void headersTheEngineDoesNotReadChangeNothingAndTheKeysOwnPathIsCharged() {
        TokenCounts b = charged("tenant-b");
        TokenCounts a = charged("tenant-a");

        Http.Response r = chat(KEY_A, "x-tokenbudget-tenant", "tenant-b", "x-tenant-id", "tenant-b",
                "x-tokenbudget-budget", "tenant-b", "x-tokenbudget-key", KEY_B, "x-api-key", KEY_B);

        assertThat(r.status()).isEqualTo(200);
        long reported = OPENAI.lastExchange().usage().orElseThrow().totalTokens();
        Http.await("settlement", () -> charged("tenant-a").total() == a.total() + reported);
        assertThat(charged("tenant-b")).isEqualTo(b);
        assertThat(r.header("x-tokenbudget-budget")).isNotEqualTo("tenant-b");
    }

    @Test
    void aUserIdIsScopedToTheKeySoTenantsNeverShareAUserBudget() {
        // user "bob" of tenant A runs out of his 1,000 daily tokens...
        Http.Response last = null;
        for (int i = 0; i < 40; i++) {
            last = chat(KEY_A, "x-tokenbudget-user", "bob-shared");
            if (last.status() == 429) {
                break;
            }
            assertThat(last.status()).isEqualTo(200);
        }
        assertThat(last.status()).as("tenant A's bob exhausted his day").isEqualTo(429);
        assertThat(last.header("x-tokenbudget-budget")).isEqualTo("user:a:bob-shared");
        assertThat(last.header("ratelimit-policy")).startsWith("\"user:a:bob-shared\";q=1000;");
        // ...which is nothing to tenant B's bob, who sends the same user id
        Http.Response b = chat(KEY_B, "x-tokenbudget-user", "bob-shared");
        assertThat(b.status()).isEqualTo(200);
        assertThat(b.header("x-tokenbudget-budget")).isNotEqualTo("user:a:bob-shared");
        // and a user id cannot be smuggled in to reach the other tenant's user budget
        Http.Response crafted = chat(KEY_B, "x-tokenbudget-user", "a:bob-shared");
        assertThat(crafted.status()).isEqualTo(200);
        assertThat(crafted.header("x-tokenbudget-budget")).isNotEqualTo("user:a:bob-shared");
    }

    @Test
    void aClientPickingTheEconomyRouteItselfIsStillChargedInFull() {
        TokenCounts before = used("key:leak");

        Http.Response r = Http.post(url("/v1/chat/completions"), Http.chat("route", 100, false),
                "Authorization", "Bearer " + KEY_LEAK, "x-tokenbudget-route", "economy");

        assertThat(r.status()).isEqualTo(200);
        long reported = OPENAI.lastExchange().usage().orElseThrow().totalTokens();
        Http.await("settlement", () -> reserved("key:leak").total() == 0);
        assertThat(used("key:leak").total()).isEqualTo(before.total() + reported);
    }
}
