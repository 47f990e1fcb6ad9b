package dev.tokenbudget.scg;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.StreamPacer;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.testing.Poll;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The real gateway (Spring Cloud Gateway on Netty, random port) in front of fake providers on
 * loopback that speak the providers' exact wire formats and demand the upstream credentials, so
 * that a virtual key reaching them would fail.
 */
@SpringBootTest(classes = GatewayTestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=gateway-it")
abstract class GatewayTestBase {

    static final FakeProvider OPENAI = FakeProvider.start(0).requireApiKey("sk-it-openai");
    static final FakeProvider ECONOMY = FakeProvider.start(0).requireApiKey("sk-it-openai");
    static final FakeProvider ANTHROPIC = FakeProvider.start(0).requireApiKey("sk-it-anthropic");
    static final FakeProvider BEDROCK = FakeProvider.start(0).requireApiKey("ABSK-it-bedrock");
    static final FakeProvider VERTEX = FakeProvider.start(0).requireApiKey("ya29.it-vertex");
    static final int DEAD_PORT = unusedPort();

    @DynamicPropertySource
    static void upstreams(DynamicPropertyRegistry r) {
        r.add("it.upstream.openai", OPENAI::baseUrl);
        r.add("it.upstream.economy", ECONOMY::baseUrl);
        r.add("it.upstream.anthropic", ANTHROPIC::baseUrl);
        r.add("it.upstream.bedrock", BEDROCK::baseUrl);
        r.add("it.upstream.vertex", VERTEX::baseUrl);
        r.add("it.upstream.dead-port", () -> DEAD_PORT);
    }

    @LocalServerPort
    int port;

    @Autowired
    BudgetEngine engine;

    @BeforeEach
    void resetFakes() {
        for (FakeProvider f : new FakeProvider[]{OPENAI, ECONOMY, ANTHROPIC, BEDROCK, VERTEX}) {
            f.clear();
            f.pacer(StreamPacer.fixed(Duration.ZERO)).replyTokens(FakeProvider.DEFAULT_REPLY_TOKENS).tokensPerChunk(2);
        }
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    WebTestClient client() {
        return WebTestClient.bindToServer().baseUrl(baseUrl()).responseTimeout(Duration.ofSeconds(30)).build();
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A body as JSON; a body that is not JSON fails the test, showing the body. */
    static JsonNode json(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new AssertionError(new String(body, StandardCharsets.UTF_8), e);
        }
    }

    static String chat(String model, int maxTokens, boolean stream) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":" + maxTokens + ",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"How much of the support budget is left?\"}]}";
    }

    static String messages(String model, int maxTokens, boolean stream) {
        return "{\"model\":\"" + model + "\",\"max_tokens\":" + maxTokens + ",\"stream\":" + stream
                + ",\"system\":\"Answer in one paragraph.\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Explain token budgets.\"}]}";
    }

    BudgetStatus.WindowStatus window(String budgetId) {
        return engine.status(budgetId).orElseThrow().windows().get(0);
    }

    TokenCounts used(String budgetId) {
        return window(budgetId).used();
    }

    TokenCounts reserved(String budgetId) {
        return window(budgetId).reserved();
    }

    /** Polls a condition that becomes true after the response (settling follows the last byte). */
    static void await(String what, BooleanSupplier condition) {
        Poll.await(what, Duration.ofSeconds(10), condition);
    }

    private static int unusedPort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
