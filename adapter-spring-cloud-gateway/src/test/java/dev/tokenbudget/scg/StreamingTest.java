package dev.tokenbudget.scg;

import dev.tokenbudget.fake.RecordedExchange;
import dev.tokenbudget.fake.ReportedUsage;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class StreamingTest extends GatewayTestBase {

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<InputStream> stream(String path, String keyHeader, String key, String body)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + path))
                .header(keyHeader, keyHeader.equals("Authorization") ? "Bearer " + key : key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    @Test
    void aStreamArrivesByteIdenticalAndChunkByChunk() throws Exception {
        Semaphore gate = new Semaphore(0);
        OPENAI.pacer(i -> i == 0 || gate.tryAcquire(20, TimeUnit.SECONDS));
        long before = used("team").total();

        HttpResponse<InputStream> r = stream("/v1/chat/completions", "Authorization", "vk-it-team",
                chat("gpt-4o", 200, true));
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try (InputStream in = r.body()) {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("text/event-stream");
            // the upstream cannot write its second event before the gate opens: the first must
            // reach the client through the gateway on its own, not buffered until the end
            received.write(readEvent(in));
            assertThat(OPENAI.lastExchange().completed()).isFalse();
            gate.release(10_000);
            received.write(in.readAllBytes());
        }

        RecordedExchange upstream = OPENAI.lastExchange();
        assertThat(received.toByteArray()).isEqualTo(upstream.sentBody());
        // the gateway asked the stream for its usage, so it settles exactly
        ReportedUsage reported = upstream.usage().orElseThrow();
        await("settlement", () -> reserved("team").total() == 0);
        assertThat(used("team").total()).isEqualTo(before + reported.totalTokens());
        assertThat(new String(upstream.request().body(), StandardCharsets.UTF_8)).contains("include_usage");
    }

    @Test
    void anAnthropicStreamSettlesExactlyWhatTheProviderReported() throws Exception {
        HttpResponse<InputStream> r = stream("/v1/messages", "x-api-key", "vk-it-anthropic",
                messages("claude-sonnet-4-5", 300, true));
        byte[] body;
        try (InputStream in = r.body()) {
            body = in.readAllBytes();
        }

        assertThat(r.statusCode()).isEqualTo(200);
        RecordedExchange upstream = ANTHROPIC.lastExchange();
        assertThat(body).isEqualTo(upstream.sentBody());
        ReportedUsage reported = upstream.usage().orElseThrow();
        await("settlement", () -> reserved("key:anthropic").total() == 0);
        assertThat(used("key:anthropic").input()).isEqualTo(reported.inputTokens());
        assertThat(used("key:anthropic").output()).isEqualTo(reported.outputTokens());
    }

    @Test
    void aResponsesStreamAndAJsonResponseBothSettleWhatWasReported() throws Exception {
        HttpResponse<InputStream> r = stream("/v1/responses", "Authorization", "vk-it-responses",
                "{\"model\":\"gpt-4.1\",\"input\":\"Hello\",\"stream\":true,\"max_output_tokens\":100}");
        try (InputStream in = r.body()) {
            in.readAllBytes();
        }
        EntityExchangeResult<byte[]> json = client().post().uri("/v1/responses")
                .header(HttpHeaders.AUTHORIZATION, "Bearer vk-it-responses").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"model\":\"gpt-4.1\",\"input\":\"Hello again\",\"max_output_tokens\":10}")
                .exchange().expectBody().returnResult();

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json.getStatus().value()).isEqualTo(200);
        ReportedUsage reported = OPENAI.totalReportedUsage();
        assertThat(reported.outputTokens()).isEqualTo(48 + 10);
        await("settlement", () -> reserved("key:responses").total() == 0
                && used("key:responses").total() == reported.totalTokens());
        assertThat(used("key:responses").input()).isEqualTo(reported.inputTokens());
    }

    @Test
    void aClientThatHangsUpMidStreamLeavesNothingReserved() throws Exception {
        Semaphore gate = new Semaphore(0);
        OPENAI.replyTokens(5_000).tokensPerChunk(1).pacer(i -> i < 3 || gate.tryAcquire(20, TimeUnit.SECONDS));
        byte[] body = chat("gpt-4o", 5_000, true).getBytes(StandardCharsets.UTF_8);
        long before = used("key:cancel").output();

        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer vk-it-cancel\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            String head = readUntil(s.getInputStream(), "data: ");
            assertThat(head).startsWith("HTTP/1.1 200");
            await("the reservation while streaming", () -> reserved("key:cancel").output() == 5_000);
        }
        gate.release(100_000);

        await("the upstream to notice the hang-up", () -> OPENAI.lastExchange().aborted());
        await("the reservation to be settled", () -> reserved("key:cancel").total() == 0);
        // cut before the usage chunk: charged conservatively, at the reservation
        assertThat(used("key:cancel").output() - before).isEqualTo(5_000);
        assertThat(OPENAI.lastExchange().completed()).isFalse();
    }

    @Test
    void anUpstreamErrorReleasesTheReservation() {
        OPENAI.failNext(500);

        EntityExchangeResult<byte[]> r = client().post().uri("/v1/chat/completions")
                .header(HttpHeaders.AUTHORIZATION, "Bearer vk-it-errors").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(chat("gpt-4o", 100, false)).exchange().expectBody().returnResult();

        assertThat(r.getStatus().value()).isEqualTo(500);
        assertThat(new String(r.getResponseBodyContent(), StandardCharsets.UTF_8)).contains("injected failure");
        await("release", () -> reserved("key:errors").total() == 0);
        assertThat(used("key:errors").total()).isZero();
    }

    @Test
    void anUnreachableUpstreamReleasesTheReservation() {
        EntityExchangeResult<byte[]> r = client().post().uri("/dead/v1/chat/completions")
                .header(HttpHeaders.AUTHORIZATION, "Bearer vk-it-errors").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(chat("gpt-4o", 100, false)).exchange().expectBody().returnResult();

        assertThat(r.getStatus().is5xxServerError()).as("status %s", r.getStatus()).isTrue();
        await("release", () -> reserved("key:errors").total() == 0);
        assertThat(used("key:errors").total()).isZero();
    }

    @Test
    void aStreamTheUpstreamBreaksOffIsChargedConservatively() throws Exception {
        ANTHROPIC.pacer(i -> i < 4);
        long before = used("key:cancel").output();

        HttpResponse<InputStream> r = stream("/v1/messages", "x-api-key", "vk-it-cancel",
                messages("claude-sonnet-4-5", 700, true));
        try (InputStream in = r.body()) {
            in.readAllBytes();
        } catch (IOException expected) {
            // the connection dropped mid-stream, as the upstream's did
        }

        await("settlement", () -> reserved("key:cancel").total() == 0);
        // message_start reported the input; the output was cut before message_delta: charged at the ceiling
        assertThat(used("key:cancel").output() - before).isGreaterThanOrEqualTo(700);
    }

    private static byte[] readEvent(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int prev = -1;
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            if (c == '\n' && prev == '\n') {
                return b.toByteArray();
            }
            prev = c;
        }
        throw new IOException("stream ended inside the first event: " + b);
    }

    private static String readUntil(InputStream in, String marker) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            sb.append((char) c);
            if (sb.indexOf(marker) >= 0) {
                return sb.toString();
            }
        }
        throw new IOException("connection closed before '" + marker + "': " + sb);
    }
}
