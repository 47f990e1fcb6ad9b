package dev.tokenbudget.apisix;

import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.usage.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The set-up of tests that run requests through the shared in-process runner on the example
 * routes: a fresh engine config per test (the runner keeps one engine per file) and loopback
 * providers for the default and economy upstreams.
 */
abstract class RouteTestSupport {

    static final Path EXAMPLES = Path.of("..", "examples", "apisix");
    static final Path ROUTES = EXAMPLES.resolve("apisix.yaml");

    @TempDir
    Path dir;

    Path engineConfig;
    FakeUpstream openai;
    FakeUpstream openaiEconomy;
    FakeUpstream anthropic;
    FakeUpstream anthropicEconomy;

    @BeforeEach
    void setUp() throws Exception {
        // a fresh engine per test: the runner keeps one engine per config file
        engineConfig = dir.resolve("tokenbudget.yaml");
        Files.write(engineConfig, FakeUpstream.resource("/tokenbudget-apisix.yaml"));
        openai = new FakeUpstream("openai");
        openaiEconomy = new FakeUpstream("openai-economy");
        anthropic = new FakeUpstream("anthropic");
        anthropicEconomy = new FakeUpstream("anthropic-economy");
    }

    @AfterEach
    void tearDown() {
        openai.close();
        openaiEconomy.close();
        anthropic.close();
        anthropicEconomy.close();
    }

    MiniApisix openAiRoute() throws Exception {
        return new MiniApisix(SharedRunner.get().client(), ROUTES, "openai-budgeted", engineConfig, openai,
                Map.of("openai-economy", openaiEconomy), plugin().settlePort());
    }

    MiniApisix anthropicRoute() throws Exception {
        return new MiniApisix(SharedRunner.get().client(), ROUTES, "anthropic-budgeted", engineConfig, anthropic,
                Map.of("anthropic-economy", anthropicEconomy), plugin().settlePort());
    }

    static TokenBudgetPlugin plugin() {
        return SharedRunner.get().bean(TokenBudgetPlugin.class);
    }

    BudgetEngine engine() {
        return plugin().gateway(engineConfig).engine();
    }

    TokenCounts used(String budget) {
        return window(budget).used();
    }

    TokenCounts reserved(String budget) {
        return window(budget).reserved();
    }

    BudgetStatus.WindowStatus window(String budget) {
        return engine().status(budget).orElseThrow().windows().get(0);
    }

    MiniApisix.Result openAiChat(String key, byte[] body) throws Exception {
        try (MiniApisix apisix = openAiRoute()) {
            return apisix.send("POST", "/v1/chat/completions", openAiHeaders(key), body);
        }
    }

    static byte[] payload(String name) {
        return FakeUpstream.resource("/payloads/" + name);
    }

    static Map<String, String> openAiHeaders(String key) {
        return Map.of("authorization", "Bearer " + key, "content-type", "application/json");
    }

    static Map<String, String> anthropicHeaders(String key) {
        return Map.of("x-api-key", key, "anthropic-version", "2023-06-01", "content-type", "application/json");
    }

    /** Charges {@code key}'s budgets with a settled request, as if earlier traffic had used it. */
    void spend(String key, long input, long output) {
        BudgetEngine e = engine();
        var t = e.reserve(new BudgetRequest(e.authenticate(key).orElseThrow(), null, null, "gpt-4.1", input, output));
        e.settle(t, TokenUsage.of(input, output));
    }
}
