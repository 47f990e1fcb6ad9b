package dev.tokenbudget.reliability;

import dev.tokenbudget.fake.RecordedExchange;
import dev.tokenbudget.fake.RecordedRequest;
import org.junit.jupiter.api.Test;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The virtual key never reaches an upstream, wherever and however often the client puts it: every
 * key header at once, repeated headers, {@code ?key=} once, twice, among other parameters or with
 * its name percent-encoded, on the OpenAI, Anthropic, Gemini and Azure routes. What arrives
 * upstream is searched whole: header names and values, path, raw and decoded query, body.
 */
class VirtualKeyLeakTest extends AbuseGatewayTestBase {

    private static final String K = KEY_LEAK;
    private static final String CHAT = Http.chat("leak", 20, false);
    private static final String MESSAGES = "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":20,\"messages\":"
            + "[{\"role\":\"user\",\"content\":\"leak\"}]}";
    private static final String GEMINI = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"leak\"}]}],"
            + "\"generationConfig\":{\"maxOutputTokens\":20}}";

    @Test
    void theVirtualKeyReachesNoUpstreamWhereverTheClientPutsIt() {
        String basic = "Basic " + Base64.getEncoder().encodeToString((K + ":").getBytes(StandardCharsets.UTF_8));
        List<Http.Response> responses = new ArrayList<>();
        // every header that can carry a key, all at once, and ?key= too
        responses.add(Http.post(url("/v1/chat/completions?key=" + K), CHAT, "Authorization", "Bearer " + K,
                "x-api-key", K, "api-key", K, "x-goog-api-key", K));
        // the header repeated, a lower-case scheme, Basic credentials next to the key
        responses.add(Http.post(url("/v1/chat/completions"), CHAT, "Authorization", "Bearer " + K,
                "Authorization", "Bearer " + K));
        responses.add(Http.post(url("/v1/chat/completions"), CHAT, "Authorization", "bearer " + K));
        responses.add(Http.post(url("/v1/chat/completions"), CHAT, "Authorization", basic, "x-api-key", K));
        // the query: among other parameters, twice, and with its name percent-encoded
        responses.add(Http.post(url("/v1/chat/completions?a=1&key=" + K + "&b=2"), CHAT, "x-api-key", K));
        responses.add(Http.post(url("/v1/chat/completions?key=" + K + "&key=" + K), CHAT, "x-api-key", K));
        responses.add(Http.post(url("/v1/chat/completions?k%65y=" + K), CHAT, "x-api-key", K));
        // Anthropic, Gemini (query key only, and header), Azure
        responses.add(Http.post(url("/v1/messages"), MESSAGES, "x-api-key", K, "Authorization", "Bearer " + K,
                "anthropic-version", "2023-06-01"));
        responses.add(Http.post(url("/v1beta/models/gemini-2.5-flash:generateContent?key=" + K), GEMINI));
        responses.add(Http.post(url("/v1beta/models/gemini-2.5-flash:generateContent?alt=sse&key=" + K), GEMINI,
                "x-goog-api-key", K));
        responses.add(Http.post(url("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21&key=" + K),
                CHAT, "api-key", K));

        assertThat(responses).extracting(Http.Response::status).as("every request was admitted and forwarded")
                .allMatch(s -> s == 200 || s == 404 || s == 401);
        List<RecordedExchange> upstream = everything().toList();
        assertThat(upstream).as("every request reached an upstream").hasSize(responses.size());
        for (RecordedExchange e : upstream) {
            RecordedRequest r = e.request();
            String query = r.query() == null ? "" : r.query();
            assertThat(r.path()).doesNotContain(K);
            assertThat(query).as(r.path()).doesNotContain(K);
            assertThat(URLDecoder.decode(query, StandardCharsets.UTF_8)).as(r.path()).doesNotContain(K);
            assertThat(r.bodyText()).doesNotContain(K);
            for (Map.Entry<String, List<String>> h : r.headers().entrySet()) {
                assertThat(h.getKey()).doesNotContain(K);
                assertThat(h.getValue()).as("%s %s header %s", r.path(), query, h.getKey())
                        .noneMatch(v -> v.contains(K) || v.contains(Base64.getEncoder()
                                .encodeToString((K + ":").getBytes(StandardCharsets.UTF_8))));
            }
        }
        // the OpenAI and Anthropic fakes demand their real credentials: the gateway set them
        assertThat(OPENAI.exchanges()).allMatch(e -> e.status() == 200);
        assertThat(ANTHROPIC.exchanges()).hasSize(1).allMatch(e -> e.status() == 200);
        assertThat(RECORDER.exchanges()).extracting(e -> e.request().header("x-goog-api-key"))
                .contains("sk-rel-upstream-gemini-0123456789");
    }
}
