package dev.tokenbudget.reliability;

import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.store.TokenCounts;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bodies a client uses against the gateway: dripped slowly, abandoned half-way, chunked without
 * end, declared a terabyte long; and a request whose response never completes. None of them
 * holds a reservation past its lease, nor reaches the upstream unbounded, nor charges twice.
 */
class BodyAbuseTest extends AbuseGatewayTestBase {

    private static final int MAX_BODY = 64 * 1024;

    private static String head(String key, String lengthHeader) {
        return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key + "\r\n"
                + "Content-Type: application/json\r\n" + lengthHeader + "\r\nConnection: close\r\n\r\n";
    }

    @Test
    void aDrippedBodyHoldsNoReservationUntilItsLastByteArrives() throws IOException {
        byte[] body = Http.chat("drip", 50, false).getBytes(StandardCharsets.UTF_8);
        TokenCounts before = used("key:slow");
        try (RawHttp c = RawHttp.connect(port)) {
            c.send(head(KEY_SLOW, "Content-Length: " + body.length));
            for (int i = 0; i < body.length - 1; i += 7) {
                c.send(java.util.Arrays.copyOfRange(body, i, Math.min(i + 7, body.length - 1)));
                assertThat(reserved("key:slow")).as("nothing reserved while the body is incomplete")
                        .isEqualTo(TokenCounts.ZERO);
            }
            assertThat(OPENAI.exchanges()).isEmpty();
            c.send(new byte[] {body[body.length - 1]});
            assertThat(c.read().status()).isEqualTo(200);
        }
        long reported = OPENAI.lastExchange().usage().orElseThrow().totalTokens();
        Http.await("settlement", () -> used("key:slow").total() == before.total() + reported);
    }

    @Test
    void aBodyAbandonedHalfWayHoldsNothingAndReachesNoUpstream() throws IOException {
        byte[] body = Http.chat("abandoned", 50, false).getBytes(StandardCharsets.UTF_8);
        TokenCounts before = charged("key:slow");
        try (RawHttp c = RawHttp.connect(port)) {
            c.send(head(KEY_SLOW, "Content-Length: " + body.length));
            c.send(java.util.Arrays.copyOf(body, body.length / 2));
            assertThat(charged("key:slow")).isEqualTo(before);
        }
        // a request on another connection goes through, and the abandoned one never did
        Http.post(url("/v1/chat/completions"), Http.chat("after", 10, false), "Authorization", "Bearer " + KEY_SLOW);
        assertThat(OPENAI.exchanges()).hasSize(1).allMatch(e -> e.request().bodyText().contains("after"));
        Http.await("settlement", () -> reserved("key:slow").total() == 0);
        assertThat(used("key:slow").total())
                .isEqualTo(before.total() + OPENAI.lastExchange().usage().orElseThrow().totalTokens());
    }

    @Test
    void aChunkedBodyThatNeverEndsIsRefusedWhenItPassesTheBound() throws IOException {
        byte[] chunk = ("1000\r\n" + "x".repeat(0x1000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        long sent = 0; // body bytes sent, the first chunk's included
        Http.Response r;
        try (RawHttp c = RawHttp.connect(port)) {
            c.send(head(KEY_SLOW, "Transfer-Encoding: chunked"));
            String start = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"";
            c.send("1000\r\n" + start + "x".repeat(0x1000 - start.length()) + "\r\n");
            sent += 0x1000;
            try {
                // 16 times the bound, and never the last chunk: the body does not end, so an
                // answer proves the gateway stopped at the bound instead of waiting for the end
                while (!c.answered() && sent < 16L * MAX_BODY) {
                    c.send(chunk);
                    sent += 0x1000;
                }
            } catch (SocketException closedByTheGateway) {
                // it answered and closed while we were still writing
            }
            r = c.read();
        }
        assertThat(r.status()).isEqualTo(413);
        assertThat(sent).isGreaterThan(MAX_BODY);
        assertThat(r.body()).contains(String.valueOf(MAX_BODY));
        assertThat(OPENAI.exchanges()).isEmpty();
    }

    @Test
    void aDeclaredTerabyteBodyIsRefusedBeforeAnyOfItIsRead() throws IOException {
        try (RawHttp c = RawHttp.connect(port)) {
            c.send(head(KEY_SLOW, "Content-Length: 1099511627776"));
            Http.Response r = c.read();
            assertThat(r.status()).isEqualTo(413);
            assertThat(r.header("content-type")).startsWith("application/json");
        }
        assertThat(OPENAI.exchanges()).isEmpty();
    }

    @Test
    void aResponseThatNeverCompletesHoldsItsReservationOnlyUntilItsLeaseExpiresAndIsChargedOnce()
            throws Exception {
        Queue<BudgetEvent> events = new ConcurrentLinkedQueue<>();
        engine.subscribe(events::add);
        TokenCounts before = used("key:slow");
        String body = Http.chat("stalled", 300, true);
        AtomicReference<Http.Response> late = new AtomicReference<>();
        TokenCounts reservation;
        GATE.close();
        Thread client = new Thread(() -> late.set(Http.post(url("/v1/chat/completions"), body,
                "Authorization", "Bearer " + KEY_SLOW)));
        try {
            client.start();
            Http.await("the stream is under way and reserved", () -> GATE.waiting() == 1
                    && reserved("key:slow").total() > 0);
            reservation = reserved("key:slow");
            assertThat(reservation.output()).isEqualTo(300);

            // the lease (1 minute) runs out while the response is still stalled
            manualClock().advance(Duration.ofSeconds(61));
            engine.expireLeases();

            assertThat(reserved("key:slow")).isEqualTo(TokenCounts.ZERO);
            assertThat(used("key:slow")).as("charged at the reservation").isEqualTo(before.plus(reservation));
            List<BudgetEvent.LeaseExpired> expired = events.stream()
                    .filter(e -> e instanceof BudgetEvent.LeaseExpired le && le.budgetIds().contains("key:slow"))
                    .map(e -> (BudgetEvent.LeaseExpired) e).toList();
            assertThat(expired).hasSize(1);
            assertThat(expired.get(0).charged()).isEqualTo(reservation);
        } finally {
            GATE.open();
            client.join(60_000);
        }
        assertThat(late.get().status()).as("the client still gets its whole stream").isEqualTo(200);
        assertThat(late.get().body()).contains("[DONE]");
        // the late settlement counts nothing more (settled inline as the last byte is written; a
        // later request's settlement proves the store has moved past it)
        Http.post(url("/v1/chat/completions"), Http.chat("next", 10, false), "Authorization", "Bearer " + KEY_SLOW);
        long next = OPENAI.lastExchange().usage().orElseThrow().totalTokens();
        Http.await("the next settlement", () -> reserved("key:slow").total() == 0);
        assertThat(used("key:slow")).isEqualTo(before.plus(reservation).plus(
                OPENAI.lastExchange().usage().map(u -> TokenCounts.of(u.inputTokens(), u.outputTokens())).orElseThrow()));
        assertThat(next).isPositive();
    }
}
