package dev.tokenbudget.reliability;

import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An upstream that lies about usage (negative, 2^63, NaN, strings, a 100,000-element array, no
 * usage, HTML instead of JSON, a stream with a negative delta, the largest valid counts, an error
 * status with absurd usage), through the real gateway: the client gets the upstream's bytes
 * unchanged, and the budget is charged the documented safe amount: the reservation when usage is
 * unknown, nothing for an error status without valid usage, never a negative or overflowing count.
 */
class MaliciousUpstreamTest extends AbuseGatewayTestBase {

    /** What the budget should be charged: the reservation, nothing, or a fixed amount. */
    private record Case(String name, boolean stream, int status, String contentType, String body, String charged) {
    }

    private static String json(String usage) {
        return "{\"id\":\"x\",\"object\":\"chat.completion\",\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":"
                + "{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}]" + usage + "}";
    }

    private static String sse(String usage) {
        return "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n"
                + "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[]" + usage + "}\n\ndata: [DONE]\n\n";
    }

    private static final List<Case> CASES = List.of(
            new Case("negative", false, 200, "application/json",
                    json(",\"usage\":{\"prompt_tokens\":-5,\"completion_tokens\":3}"), "reservation"),
            new Case("two-pow-63", false, 200, "application/json",
                    json(",\"usage\":{\"prompt_tokens\":9223372036854775808,\"completion_tokens\":3}"), "reservation"),
            new Case("long-max", false, 200, "application/json",
                    json(",\"usage\":{\"prompt_tokens\":9223372036854775807,\"completion_tokens\":3}"), "reservation"),
            new Case("nan", false, 200, "application/json",
                    json(",\"usage\":{\"prompt_tokens\":NaN,\"completion_tokens\":3}"), "reservation"),
            new Case("string", false, 200, "application/json",
                    json(",\"usage\":{\"prompt_tokens\":\"100\",\"completion_tokens\":3}"), "reservation"),
            new Case("float-1e308", false, 200, "application/json",
                    json(",\"usage\":{\"prompt_tokens\":1e308,\"completion_tokens\":3}"), "reservation"),
            new Case("object", false, 200, "application/json",
                    json(",\"usage\":{\"prompt_tokens\":{\"value\":5},\"completion_tokens\":3}"), "reservation"),
            new Case("huge-array", false, 200, "application/json",
                    json(",\"usage\":{\"prompt_tokens\":[" + "1,".repeat(100_000) + "2],\"completion_tokens\":3}"),
                    "2/3"),
            new Case("no-usage", false, 200, "application/json", json(""), "reservation"),
            new Case("html", false, 200, "text/html", "<html><body>Bad gateway</body></html>", "reservation"),
            new Case("stream-negative-delta", true, 200, "text/event-stream",
                    sse(",\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":-3}"), "reservation"),
            new Case("stream-without-usage", true, 200, "text/event-stream", sse(""), "reservation"),
            new Case("counts-adding-up-beyond-2pow53", false, 200, "application/json",
                    json(",\"usage\":{\"prompt_tokens\":9007199254740991,\"completion_tokens\":9007199254740991}"),
                    "reservation"),
            new Case("error-with-absurd-usage", false, 500, "application/json",
                    "{\"error\":{\"message\":\"boom\"},\"usage\":{\"prompt_tokens\":-1,\"completion_tokens\":1e400}}",
                    "nothing"),
            // last: valid counts summing to 2^53-1 exhaust this budget for good
            new Case("largest-valid-sum", false, 200, "application/json",
                    json(",\"usage\":{\"prompt_tokens\":4503599627370496,\"completion_tokens\":4503599627370495}"),
                    "capped"));

    @Test
    void liesAboutUsageChargeTheDocumentedSafeAmountAndReachTheClientUnchanged() {
        Queue<BudgetEvent> events = new ConcurrentLinkedQueue<>();
        engine.subscribe(events::add);
        List<String> summary = new ArrayList<>();
        int unknown = 0;
        for (int i = 0; i < CASES.size(); i++) {
            Case c = CASES.get(i);
            String model = "hostile-" + c.name();
            HOSTILE.answer(model, new HostileUpstream.Answer(c.status(), c.contentType(), pieces(c.body())));
            long maxTokens = 100 + i;
            String request = "{\"model\":\"" + model + "\",\"max_tokens\":" + maxTokens + ",\"stream\":" + c.stream()
                    + ",\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":"
                    + "\"hostile\"}]}";
            TokenCounts before = used("key:hostile");

            Http.Response r = Http.post(url("/hostile/v1/chat/completions"), request,
                    "Authorization", "Bearer " + KEY_HOSTILE);

            assertThat(r.status()).as(c.name()).isEqualTo(c.status());
            assertThat(r.body()).as("%s: the client gets the upstream's bytes", c.name()).isEqualTo(c.body());
            Http.await("settlement of " + c.name(), () -> reserved("key:hostile").total() == 0);
            TokenCounts after = used("key:hostile");
            TokenCounts delta = TokenCounts.of(after.input() - before.input(), after.output() - before.output());
            TokenCounts expected = switch (c.charged()) {
                case "reservation" -> TokenCounts.of(Reservations.inputEstimate(request), maxTokens);
                case "nothing" -> TokenCounts.ZERO;
                case "capped" -> delta; // checked below: within 0..2^53-1 whatever was reported
                default -> TokenCounts.of(Long.parseLong(c.charged().split("/")[0]),
                        Long.parseLong(c.charged().split("/")[1]));
            };
            assertThat(delta).as(c.name()).isEqualTo(expected);
            assertThat(after.input()).as(c.name()).isBetween(0L, TokenUsage.MAX);
            assertThat(after.output()).as(c.name()).isBetween(0L, TokenUsage.MAX);
            assertThat(after.total()).as(c.name()).isBetween(0L, TokenUsage.MAX);
            if (c.charged().equals("reservation")) {
                unknown++;
            }
            summary.add(c.name() + "=" + delta.total());
        }
        assertThat(events).filteredOn(e -> e instanceof BudgetEvent.UsageUnknown u && u.keyName().equals("hostile"))
                .as("each unknown usage raised a USAGE_UNKNOWN event").hasSize(unknown);
        System.out.println("malicious upstream, charged per case: " + summary);
    }

    /** The body in pieces of 37 bytes, so the gateway meters it across chunk boundaries. */
    private static byte[][] pieces(String body) {
        byte[] all = body.getBytes(StandardCharsets.UTF_8);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < all.length; i += 37) {
            out.add(java.util.Arrays.copyOfRange(all, i, Math.min(all.length, i + 37)));
        }
        return out.toArray(byte[][]::new);
    }
}
