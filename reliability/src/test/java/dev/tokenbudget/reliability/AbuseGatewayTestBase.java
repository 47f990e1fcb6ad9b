package dev.tokenbudget.reliability;

import dev.tokenbudget.console.admin.AdminServer;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.fake.FakeProvider;
import dev.tokenbudget.fake.RecordedExchange;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.time.BudgetClock;
import dev.tokenbudget.time.ManualClock;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

/**
 * One gateway (in-memory store, a clock the tests move) shared by the abuse tests: two tenants
 * with features and per-user budgets, keys of their own, and upstreams that demand the real
 * credential (OpenAI, Anthropic), record anything (Gemini and Azure paths) or lie about usage;
 * the admin API beside it.
 */
@SpringBootTest(classes = {ReliabilityGatewayApp.class, AbuseGatewayTestBase.Clock.class},
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=reliability-gateway", "rel.admin.port=0",
                "rel.admin.token=" + AbuseGatewayTestBase.ADMIN_TOKEN})
abstract class AbuseGatewayTestBase {

    /** The admin API's bearer token (the admin server runs beside the gateway, as in the quickstart). */
    static final String ADMIN_TOKEN = "rel-admin-token-0123456789abcdef";

    static final String KEY_A = "vk-rel-tenant-a-secret";
    static final String KEY_A_CHAT = "vk-rel-tenant-a-chat-only";
    static final String KEY_B = "vk-rel-tenant-b-secret";
    static final String KEY_LEAK = "vk-rel-leak-check";
    static final String KEY_SLOW = "vk-rel-slow-client";
    static final String KEY_HOSTILE = "vk-rel-hostile-upstream";
    /** Every virtual key of this gateway. */
    static final List<String> KEYS = List.of(KEY_A, KEY_A_CHAT, KEY_B, KEY_LEAK, KEY_SLOW, KEY_HOSTILE);

    static final Instant NOW = Instant.parse("2026-03-10T12:00:00Z");
    static final Gate GATE = new Gate(1);
    static final FakeProvider OPENAI = FakeProvider.start(0).requireApiKey(ReliabilityGatewayApp.UPSTREAM_OPENAI_KEY)
            .pacer(GATE).tokensPerChunk(4);
    static final FakeProvider ANTHROPIC = FakeProvider.start(0)
            .requireApiKey(ReliabilityGatewayApp.UPSTREAM_ANTHROPIC_KEY).pacer(index -> true);
    /** Gemini and Azure paths: records whatever arrives (and answers 404: it speaks neither). */
    static final FakeProvider RECORDER = FakeProvider.start(0).pacer(index -> true);
    static final HostileUpstream HOSTILE = HostileUpstream.start();

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry r) {
        r.add("rel.upstream.openai", OPENAI::baseUrl);
        r.add("rel.upstream.anthropic", ANTHROPIC::baseUrl);
        r.add("rel.upstream.gemini", RECORDER::baseUrl);
        r.add("rel.upstream.azure", RECORDER::baseUrl);
        r.add("rel.upstream.hostile", HOSTILE::baseUrl);
        r.add("tokenbudget.config", AbuseGatewayTestBase::config);
    }

    private static String config;

    private static synchronized String config() {
        if (config == null) {
            String users = "user_windows: [{period: day, limits: {total: 1000}}], "
                    + "thresholds: [{at: 100, policy: hard_stop}]";
            String own = "windows: [{period: day, limits: {total: 10M}}]";
            config = EngineYaml.file("""
                    lease_ttl: 1m
                    defaults: {zone: UTC, output_tokens: 256}
                    providers:
                      openai: {api_key_env: REL_OPENAI_KEY}
                      anthropic: {api_key_env: REL_ANTHROPIC_KEY}
                      gemini: {api_key_env: REL_GEMINI_KEY}
                      azure: {api_key_env: REL_AZURE_KEY}
                    budgets:
                      - {id: tenant-a, windows: [{period: month, limits: {total: 100M}}]}
                      - {id: a-chat, parent: tenant-a, windows: [{period: day, limits: {total: 10M}}]}
                      - {id: a-search, parent: tenant-a, windows: [{period: day, limits: {total: 10M}}]}
                      - {id: tenant-b, windows: [{period: month, limits: {total: 100M}}]}
                      - {id: b-chat, parent: tenant-b, windows: [{period: day, limits: {total: 10M}}]}
                      - {id: hostile-org, windows: [{period: month, limits: {total: 100M}}]}
                    keys:
                    """ + EngineYaml.key("a", KEY_A, "tenant-a", "features: [a-chat], " + users)
                    + EngineYaml.key("a-chat-only", KEY_A_CHAT, "a-chat", "")
                    + EngineYaml.key("b", KEY_B, "tenant-b", "features: [b-chat], " + users)
                    + EngineYaml.key("leak", KEY_LEAK, "tenant-a", own)
                    + EngineYaml.key("slow", KEY_SLOW, "tenant-a", own)
                    + EngineYaml.key("hostile", KEY_HOSTILE, "hostile-org", own));
        }
        return config;
    }

    /** The engine's clock: noon UTC, moved only by tests (lease expiry). */
    @TestConfiguration(proxyBeanMethods = false)
    static class Clock {
        @Bean
        BudgetClock testClock() {
            return new ManualClock(NOW);
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    BudgetEngine engine;

    @Autowired
    BudgetClock clock;

    @Autowired
    AdminServer admin;

    @BeforeEach
    void resetUpstreams() {
        GATE.open();
        for (FakeProvider f : List.of(OPENAI, ANTHROPIC, RECORDER)) {
            f.clear();
        }
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    /** used + reserved of a budget's first window (zero for a user budget never charged). */
    TokenCounts charged(String budget) {
        return engine.status(budget).map(s -> s.windows().get(0))
                .map(w -> w.used().plus(w.reserved())).orElse(TokenCounts.ZERO);
    }

    TokenCounts used(String budget) {
        return engine.status(budget).orElseThrow().windows().get(0).used();
    }

    TokenCounts reserved(String budget) {
        return engine.status(budget).orElseThrow().windows().get(0).reserved();
    }

    static Stream<RecordedExchange> everything() {
        return Stream.of(OPENAI, ANTHROPIC, RECORDER).flatMap(f -> f.exchanges().stream());
    }

    ManualClock manualClock() {
        return (ManualClock) clock;
    }
}
