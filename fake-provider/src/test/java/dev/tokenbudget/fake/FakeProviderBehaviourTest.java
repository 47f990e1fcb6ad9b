package dev.tokenbudget.fake;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FakeProviderBehaviourTest {

    private static final String CHAT = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]%s}";

    private FakeProvider fake;
    private FakeClient client;

    @BeforeEach
    void start() {
        fake = FakeProvider.start(0).pacer(StreamPacer.fixed(Duration.ZERO));
        client = new FakeClient(fake);
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    @Test
    void listensOnLoopbackOnly() {
        assertThat(fake.baseUrl()).startsWith("http://127.0.0.1:");
    }

    @Test
    void recordsPathHeadersAndBodyOfEveryRequest() {
        client.post("/v1/chat/completions", CHAT.formatted(""), "Authorization", "Bearer sk-upstream",
                "X-Custom", "a");

        RecordedRequest r = fake.lastExchange().request();
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.path()).isEqualTo("/v1/chat/completions");
        assertThat(r.header("authorization")).isEqualTo("Bearer sk-upstream");
        assertThat(r.header("x-custom")).isEqualTo("a");
        assertThat(r.bodyText()).isEqualTo(CHAT.formatted(""));
        assertThat(fake.lastExchange().status()).isEqualTo(200);
        // completion is marked after the last byte went out, so the client may be first
        assertThat(FakeClient.eventually(() -> fake.lastExchange().completed())).isTrue();
    }

    @Test
    void keepsTheExactResponseBytesItSent() {
        HttpResponse<String> json = client.post("/v1/chat/completions", CHAT.formatted(""));
        byte[] jsonSent = fake.lastExchange().sentBody();
        HttpResponse<String> sse = client.post("/v1/chat/completions", CHAT.formatted(",\"stream\":true"));

        assertThat(new String(jsonSent, StandardCharsets.UTF_8)).isEqualTo(json.body());
        assertThat(new String(fake.lastExchange().sentBody(), StandardCharsets.UTF_8)).isEqualTo(sse.body());
    }

    @Test
    void jsonIsGzippedWhenTheClientAcceptsItAndStreamsAreNot() throws IOException {
        HttpResponse<String> plain = client.post("/v1/chat/completions", CHAT.formatted(""));
        byte[] plainSent = fake.lastExchange().sentBody();
        HttpResponse<String> gz = client.post("/v1/chat/completions", CHAT.formatted(""), "Accept-Encoding", "gzip");
        byte[] gzSent = fake.lastExchange().sentBody();
        HttpResponse<String> sse = client.post("/v1/chat/completions", CHAT.formatted(",\"stream\":true"),
                "Accept-Encoding", "gzip");

        assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
        assertThat(gz.headers().firstValue("content-encoding")).hasValue("gzip");
        String unzipped = new String(new GZIPInputStream(new ByteArrayInputStream(gzSent))
                .readAllBytes(), StandardCharsets.UTF_8);
        assertThat(FakeClient.json(unzipped).get("usage").get("completion_tokens").asInt()).isEqualTo(48);
        assertThat(plainSent).isNotEqualTo(gzSent);
        assertThat(sse.headers().firstValue("content-encoding")).isEmpty();
    }

    @Test
    void totalReportedUsageAddsEveryResponse() {
        client.post("/v1/chat/completions", CHAT.formatted(",\"max_tokens\":4"));
        client.post("/v1/chat/completions", CHAT.formatted(",\"max_tokens\":6"));

        ReportedUsage total = fake.totalReportedUsage();
        long input = fake.exchanges().get(0).usage().orElseThrow().inputTokens();
        assertThat(total).isEqualTo(new ReportedUsage(2 * input, 10));
    }

    @Test
    void theTallyCountsEveryExchangeAndTheUsageItReportedAndIsServedAsJson() throws InterruptedException {
        client.post("/v1/chat/completions", CHAT.formatted(",\"max_tokens\":4"));
        client.post("/v1/chat/completions", CHAT.formatted(",\"max_tokens\":6"));
        fake.failNext(500);
        client.post("/v1/chat/completions", CHAT.formatted(""));
        // an exchange is counted just after its last byte is written: the client can be faster
        for (int i = 0; i < 1_000 && fake.tally().completed() < 3; i++) {
            Thread.sleep(10);
        }

        ProviderTally tally = fake.tally();
        ReportedUsage recorded = fake.totalReportedUsage();
        assertThat(tally).isEqualTo(new ProviderTally(3, 3, 0, recorded.inputTokens(), 10));
        HttpResponse<String> served = client.get(FakeProvider.TALLY_PATH);
        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(FakeClient.json(served.body()).get("total_tokens").asLong()).isEqualTo(recorded.totalTokens());
        assertThat(fake.exchanges()).as("reading the tally is not an exchange").hasSize(3);

        fake.clear();
        assertThat(fake.tally()).isEqualTo(new ProviderTally(0, 0, 0, 0, 0));
    }

    @Test
    void requiredApiKeyRejectsOtherCredentials() {
        fake.requireApiKey("sk-real");

        assertThat(client.post("/v1/chat/completions", CHAT.formatted(""), "Authorization", "Bearer vk-virtual")
                .statusCode()).isEqualTo(401);
        assertThat(client.post("/v1/chat/completions", CHAT.formatted(""), "Authorization", "Bearer sk-real")
                .statusCode()).isEqualTo(200);
        assertThat(client.post("/v1/messages", "{\"model\":\"claude-x\",\"max_tokens\":5,\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"Hi\"}]}", "x-api-key", "sk-real").statusCode()).isEqualTo(200);
    }

    @Test
    void injectedFailureAnswersOnceWithTheProviderErrorShape() {
        fake.failNext(529);

        HttpResponse<String> failed = client.post("/v1/messages", "{}");
        HttpResponse<String> next = client.post("/v1/chat/completions", CHAT.formatted(""));

        assertThat(failed.statusCode()).isEqualTo(529);
        assertThat(FakeClient.json(failed.body()).get("error").get("type").asText()).isEqualTo("overloaded_error");
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(fake.exchanges().get(0).usage()).isEmpty();
    }

    @Test
    void malformedJsonAndUnknownPathsAreRefusedClearly() {
        HttpResponse<String> malformed = client.post("/v1/chat/completions", "{\"model\": \"gpt-4o\", ");
        HttpResponse<String> unknown = client.post("/v1/embeddings-nope", "{}");

        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(FakeClient.json(malformed.body()).get("error").get("message").asText()).contains("JSON");
        assertThat(unknown.statusCode()).isEqualTo(404);
    }

    @Test
    void eachStreamChunkIsFlushedBeforeTheNextExists() throws Exception {
        Semaphore gate = new Semaphore(0);
        fake.pacer(i -> i == 0 || gate.tryAcquire(20, TimeUnit.SECONDS));

        HttpResponse<InputStream> r = client.postStreaming("/v1/chat/completions", CHAT.formatted(",\"stream\":true"));
        try (InputStream in = r.body()) {
            // the second chunk cannot be written until the gate opens: the first must arrive alone
            String first = readEvent(in);
            assertThat(first).startsWith("data: {").contains("\"role\":\"assistant\"");
            assertThat(fake.lastExchange().completed()).isFalse();
            gate.release(1000);
            String rest = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(rest).endsWith("data: [DONE]\n\n");
        }
    }

    @Test
    void aBrokenStreamDropsTheConnectionMidResponse() {
        fake.pacer(i -> i < 3);

        assertThatThrownBy(() -> {
            HttpResponse<InputStream> r = client.postStreaming("/v1/messages", "{\"model\":\"claude-x\","
                    + "\"max_tokens\":50,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
            try (InputStream in = r.body()) {
                in.readAllBytes();
            }
        }).isInstanceOf(IOException.class);
        assertThat(fake.lastExchange().aborted()).isTrue();
        assertThat(fake.lastExchange().usage().orElseThrow().outputTokens())
                .as("only message_start's usage went out").isEqualTo(1);
    }

    @Test
    void aClientThatHangsUpMidStreamIsRecordedAsAborted() throws Exception {
        fake.replyTokens(100_000).tokensPerChunk(1);
        byte[] body = CHAT.formatted(",\"stream\":true,\"stream_options\":{\"include_usage\":true}")
                .getBytes(StandardCharsets.UTF_8);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), fake.port())) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            byte[] some = new byte[512];
            assertThat(s.getInputStream().read(some)).isPositive();
        }
        assertThat(FakeClient.eventually(() -> fake.lastExchange().aborted())).isTrue();
        assertThat(fake.lastExchange().completed()).isFalse();
        assertThat(fake.lastExchange().usage()).isEmpty();
    }

    private static String readEvent(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            sb.append((char) c);
            if (sb.length() >= 2 && sb.charAt(sb.length() - 1) == '\n' && sb.charAt(sb.length() - 2) == '\n') {
                return sb.toString();
            }
        }
        throw new IOException("stream ended inside an event: " + sb);
    }

}
