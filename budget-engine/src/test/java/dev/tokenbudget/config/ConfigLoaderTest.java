package dev.tokenbudget.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tokenbudget.budget.Policy;
import dev.tokenbudget.window.Period;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    private static final String HASH = "a".repeat(64);

    private static final String OK_BUDGET = """
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 1M } }]
            """;

    @Test
    void readsAFullConfig() {
        EngineConfig c = ConfigLoader.load(Path.of("../examples/config/tokenbudget.yaml"));
        assertThat(c.budgets().budgets()).hasSize(5);
        assertThat(c.budgets().chain("support-copilot")).extracting(b -> b.id())
                .containsExactly("support-copilot", "support", "acme");
        var support = c.budgets().get("support").orElseThrow();
        assertThat(support.windows()).hasSize(2);
        assertThat(support.windows().get(1).window().period()).isEqualTo(Period.ROLLING);
        assertThat(support.windows().get(1).window().length()).isEqualTo(Duration.ofDays(7));
        assertThat(support.windows().get(1).limits().total()).isEqualTo(150_000_000L);
        assertThat(support.hardStopPercent()).isEqualTo(-1);
        assertThat(support.degrade().models()).containsEntry("claude-opus-4-7", "claude-haiku-4-5");
        assertThat(c.budgets().get("acme").orElseThrow().windows().get(0).window().zone().getId())
                .isEqualTo("Europe/Berlin");
        assertThat(c.budgets().get("internal-agents").orElseThrow().thresholds().get(2).policy())
                .isEqualTo(Policy.HARD_STOP);
        assertThat(c.keys()).hasSize(2);
        assertThat(c.keys().get(0).userTemplate()).isNotNull();
        assertThat(c.keys().get(1).ownBudget().id()).isEqualTo("key:agents");
        assertThat(c.leaseTtl()).isEqualTo(Duration.ofMinutes(10));
    }

    /** A config of one budget, {@code a}, with {@code window} and these lines below it. */
    private static String budgetA(String window, String... lines) {
        StringBuilder yaml = new StringBuilder("budgets:\n  - id: a\n    windows: [" + window + "]\n");
        for (String line : lines) {
            yaml.append("    ").append(line).append('\n');
        }
        return yaml.toString();
    }

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                Arguments.of("negative limit", budgetA("{ period: month, limits: { output: -5 } }"),
                        "budgets[0].windows[0].limits.output: must be > 0, was -5"),
                Arguments.of("not YAML", "budgets: [ {id: a", "not valid YAML at line"),
                Arguments.of("unknown field with a suggestion", budgetA("{ period: month, limts: { total: 5 } }"),
                        "budgets[0].windows[0].limts: unknown field (did you mean 'limits'?)"),
                Arguments.of("missing id", """
                        budgets:
                          - windows: [{ period: month, limits: { total: 5 } }]
                        """, "budgets[0].id: is required"),
                Arguments.of("duplicate id", OK_BUDGET + """
                          - id: org
                            windows: [{ period: day, limits: { total: 5 } }]
                        """, "budgets[1].id: duplicate budget id 'org', first defined at budgets[0]"),
                Arguments.of("unknown parent", OK_BUDGET + """
                          - id: b
                            parent: orgg
                            windows: [{ period: day, limits: { total: 5 } }]
                        """, "budgets[1].parent: unknown budget 'orgg'"),
                Arguments.of("parent cycle", """
                        budgets:
                          - { id: a, parent: b, windows: [{ period: day, limits: { total: 5 } }] }
                          - { id: b, parent: a, windows: [{ period: day, limits: { total: 5 } }] }
                        """, "budgets[0].parent: parents form a cycle through 'a'"),
                Arguments.of("unknown period", budgetA("{ period: monthly, limits: { total: 5 } }"),
                        "budgets[0].windows[0].period: must be one of month, week, day, rolling, was 'monthly'"),
                Arguments.of("rolling without length", budgetA("{ period: rolling, limits: { total: 5 } }"),
                        "budgets[0].windows[0].length: is required for a rolling window"),
                Arguments.of("bad time zone", budgetA("{ period: day, zone: Mars/Olympus, limits: { total: 5 } }"),
                        "budgets[0].windows[0].zone: must be an IANA time zone"),
                Arguments.of("window without limits", budgetA("{ period: day, limits: {} }"),
                        "budgets[0].windows[0].limits: must limit at least one of input, output, total"),
                Arguments.of("threshold out of range", budgetA("{ period: day, limits: { total: 5 } }",
                        "thresholds: [{ at: 120, policy: hard_stop }]"),
                        "budgets[0].thresholds[0].at: must be a whole number in 1..100, was 120"),
                Arguments.of("unknown policy", budgetA("{ period: day, limits: { total: 5 } }",
                        "thresholds: [{ at: 90, policy: throttle }]"),
                        "budgets[0].thresholds[0].policy: must be one of alert_only, degrade_route, hard_stop"),
                Arguments.of("degrade without a degrade section", budgetA("{ period: day, limits: { total: 5 } }",
                        "thresholds: [{ at: 90, policy: degrade_route }]"),
                        "budgets[0].degrade: a threshold uses degrade_route"),
                Arguments.of("clear-text key", OK_BUDGET + """
                        keys:
                          - { name: k, sha256: sk-live-123, budget: org }
                        """, "keys[0].sha256: must be the SHA-256 of the key"),
                Arguments.of("key on unknown budget", OK_BUDGET + """
                        keys:
                          - { name: k, sha256: %s, budget: nope }
                        """.formatted(HASH), "keys[0].budget: unknown budget 'nope'"),
                Arguments.of("feature of another tenant", OK_BUDGET + """
                          - { id: t1, parent: org, windows: [{ period: day, limits: { total: 5 } }] }
                          - { id: t2, parent: org, windows: [{ period: day, limits: { total: 5 } }] }
                        keys:
                          - { name: k, sha256: %s, budget: t1, features: [t2] }
                        """.formatted(HASH), "keys[0].features[0]: feature budget 't2' is not below the key's budget 't1'"),
                Arguments.of("limit beyond 2^53", budgetA("{ period: day, limits: { total: 99999999999999999 } }"),
                        "budgets[0].windows[0].limits.total: must be at most 2^53-1"),
                Arguments.of("bad duration", OK_BUDGET + "lease_ttl: ten minutes\n",
                        "lease_ttl: must be a duration such as 50ms"),
                Arguments.of("redis without uri", OK_BUDGET + "store: { type: redis }\n",
                        "store.redis.uri: is required when store.type is redis"),
                Arguments.of("token block share", OK_BUDGET
                                + "store: { type: redis, redis: { uri: 'redis://h', blocks: { headroom_share: 2 } } }\n",
                        "store.redis.blocks.headroom_share: must be in (0, 1], was 2.0"),
                Arguments.of("token block size", OK_BUDGET
                                + "store: { type: redis, redis: { uri: 'redis://h', blocks: { max_requests: 1 } } }\n",
                        "store.redis.blocks.max_requests: must be a whole number in 2..1000000, was 1"),
                Arguments.of("token block low-water mark", OK_BUDGET
                                + "store: { type: redis, redis: { uri: 'redis://h', blocks: { renew_below: 1 } } }\n",
                        "store.redis.blocks.renew_below: must be in [0, 1), was 1.0"),
                Arguments.of("unsafe budget id", """
                        budgets:
                          - id: "a b\\r\\nx"
                            windows: [{ period: day, limits: { total: 5 } }]
                        """, "budgets[0].id: must be 1-64 of A-Z a-z 0-9 . _ -"),
                Arguments.of("empty config", "", "the config is empty"),
                Arguments.of("unknown tier preset", OK_BUDGET + """
                        upstreams:
                          - { name: oa, provider: openai, preset: openai-tier-9 }
                        """, "upstreams[0].preset: unknown preset 'openai-tier-9'"),
                Arguments.of("provider key in clear", OK_BUDGET + """
                        providers:
                          openai: { api_key_env: "sk-proj-abc" }
                        """, "providers.openai.api_key_env: must name an environment variable"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badConfigs")
    void rejectsBadConfigWithThePathAndTheProblem(String what, String yaml, String message) {
        assertThat(ConfigErrors.of(yaml)).as(what).anySatisfy(m -> assertThat(m).startsWith(message));
    }

    @Test
    void tokenBlocksAreOffUnlessConfigured() {
        assertThat(ConfigLoader.parse(OK_BUDGET + "store: { type: redis, redis: { uri: 'redis://h' } }\n").store()
                .blocks()).isEqualTo(BlockSettings.DISABLED);
        StoreSettings s = ConfigLoader.parse(OK_BUDGET + """
                store:
                  type: redis
                  redis:
                    uri: redis://h
                    blocks: { max_requests: 32, headroom_share: 0.05, flush_interval: 500ms, renew_below: 0.5 }
                """).store();
        assertThat(s.blocks()).isEqualTo(BlockSettings.of(32, 0.05, Duration.ofMillis(500)).withRenewBelow(0.5));
    }

    @Test
    void stagedPoliciesAreInheritedDownTheTreeAndOverridable() {
        EngineConfig c = ConfigLoader.parse("""
                budgets:
                  - id: child
                    parent: org
                    windows: [{ period: day, limits: { total: 5 } }]
                  - id: org
                    windows: [{ period: month, limits: { total: 1M } }]
                    thresholds: [{ at: 80, policy: alert_only }, { at: 95, policy: degrade_route }]
                    degrade: { models: { gpt-4.1: gpt-4.1-mini } }
                  - id: strict
                    parent: org
                    windows: [{ period: day, limits: { total: 5 } }]
                    thresholds: [{ at: 100, policy: hard_stop }]
                  - id: grandchild
                    parent: strict
                    windows: [{ period: day, limits: { total: 5 } }]
                """);
        var child = c.budgets().get("child").orElseThrow();
        assertThat(child.thresholds()).extracting(t -> t.percent()).containsExactly(80, 95);
        assertThat(child.degrade().models()).containsEntry("gpt-4.1", "gpt-4.1-mini");
        assertThat(c.budgets().get("grandchild").orElseThrow().hardStopPercent()).isEqualTo(100);
        assertThat(c.budgets().get("grandchild").orElseThrow().degrade().models())
                .containsEntry("gpt-4.1", "gpt-4.1-mini");
    }

    @Test
    void upstreamQuotasTakeAPresetWithOverridesAndWeights() {
        EngineConfig c = ConfigLoader.parse(OK_BUDGET + """
                  - { id: a, parent: org, windows: [{ period: day, limits: { total: 5 } }] }
                upstreams:
                  - name: claude
                    provider: anthropic
                    models: [claude-opus-4-7]
                    preset: anthropic-tier-2
                    limits: { output_tokens_per_minute: 100k }
                    max_wait: 500ms
                    weights: { a: 3 }
                """);
        var u = c.upstreams().get(0);
        assertThat(u.limits()).isEqualTo(new dev.tokenbudget.routing.TierLimits(1000, 450_000, 100_000, -1));
        assertThat(u.maxWait()).isEqualTo(Duration.ofMillis(500));
        assertThat(u.weights()).containsEntry("a", 3);
        assertThat(u.matches("anthropic", "claude-opus-4-7")).isTrue();
        assertThat(u.matches("anthropic", "claude-haiku-4-5")).isFalse();
    }

    private static final String DEGRADING = OK_BUDGET + """
              - id: support
                parent: org
                windows: [{ period: month, limits: { total: 500k } }]
                thresholds: [{ at: 90, policy: degrade_route }]
            """;

    @Test
    void aDegradeTargetOutsideThePriceTableIsAnErrorNamingThePathTheModelAndTheNearestKnownNames() {
        assertThat(ConfigErrors.of(DEGRADING + """
                    degrade: { models: { claude-opus-4-7: claude-haiku-4-5, gpt-4.1: gpt-4.1-mni } }
                """)).containsExactly(
                "budgets[1].degrade.models.gpt-4.1: unknown model 'gpt-4.1-mni': a degrade target must be a model "
                        + "the price table knows (did you mean 'gpt-4.1-mini', 'gpt-4.1-nano', "
                        + "'gpt-4o-mini'?); add it under "
                        + "'prices' (dollars per million tokens) if it is yours to name, e.g. a self-hosted model");
        assertThat(ConfigErrors.of(DEGRADING + """
                    degrade: { models: { gpt-4.1: my-llama-8b } }
                """)).singleElement().asString()
                .startsWith("budgets[1].degrade.models.gpt-4.1: unknown model 'my-llama-8b'")
                .contains("it has no model near that name; docs/usage.md#prices lists the defaults");
    }

    @Test
    void aDegradeTargetIsKnownByItsDefaultPriceAPriceTheConfigAddsASnapshotSuffixOrARouterPrefix() {
        EngineConfig c = ConfigLoader.parse("""
                prices:
                  llama-3.1-8b-instruct: { input: 0.05, output: 0.08 }
                """ + DEGRADING + """
                    degrade:
                      models:
                        gpt-4.1: llama-3.1-8b-instruct         # priced by the config
                        gpt-4o: gpt-4o-mini-2024-07-18         # a dated snapshot of a default entry
                        claude-opus-4-7: claude-haiku-4-5-20251001
                        openai/gpt-5: openai/gpt-5-mini        # a router's prefix
                        my-fine-tune-v3: GPT-4.1-MINI          # the source is whatever clients send
                """);
        assertThat(c.budgets().get("support").orElseThrow().degrade().models())
                .containsEntry("gpt-4.1", "llama-3.1-8b-instruct").containsEntry("my-fine-tune-v3", "GPT-4.1-MINI");
        // the same target without the config's price is refused
        assertThatThrownBy(() -> ConfigLoader.parse(DEGRADING + """
                    degrade: { models: { gpt-4.1: llama-3.1-8b-instruct } }
                """)).isInstanceOf(ConfigException.class).hasMessageContaining("unknown model 'llama-3.1-8b-instruct'");
        // a name below an entry that is no snapshot of it is not a model of the table
        assertThatThrownBy(() -> ConfigLoader.parse(DEGRADING + """
                    degrade: { models: { gpt-4o: gpt-4o-minni } }
                """)).isInstanceOf(ConfigException.class).hasMessageContaining("did you mean 'gpt-4o-mini'");
    }

    /** Every engine config shipped under examples/ (a YAML file with budgets at its top) loads. */
    @Test
    void everyShippedExampleConfigLoads() throws IOException {
        List<Path> configs;
        try (Stream<Path> files = Files.walk(Path.of("../examples"))) {
            configs = files.filter(p -> p.toString().endsWith(".yaml") && !p.toString().contains("/target/"))
                    .filter(ConfigLoaderTest::isEngineConfig).sorted().toList();
        }
        assertThat(configs).extracting(p -> Path.of("../examples").relativize(p).toString().replace('\\', '/'))
                .contains("config/tokenbudget.yaml", "config/allocation.yaml", "quickstart/tokenbudget.yaml",
                        "envoy/tokenbudget.yaml", "apisix/tokenbudget.yaml", "routing/baseline.yaml",
                        "routing/staged.yaml");
        for (Path p : configs) {
            assertThatCode(() -> ConfigLoader.load(p)).as(p.toString()).doesNotThrowAnyException();
        }
    }

    private static boolean isEngineConfig(Path p) {
        try {
            return new ObjectMapper(new YAMLFactory()).readTree(p.toFile()).has("budgets");
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void reportsEveryErrorNotJustTheFirst() {
        String yaml = """
                budgets:
                  - id: a
                    windows: [{ period: month, limits: { output: -5 } }]
                  - id: b
                    windows: [{ period: fortnight, limits: { total: 5 } }]
                  - id: c
                    parent: zzz
                    windows: [{ period: day, limits: { total: 5 } }]
                """;
        assertThatThrownBy(() -> ConfigLoader.parse(yaml)).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.errors()).hasSizeGreaterThanOrEqualTo(3));
    }

    @Test
    void tokenQuantitiesAcceptSuffixes() {
        assertThat(Quantities.tokens("20M")).isEqualTo(20_000_000L);
        assertThat(Quantities.tokens("1.5k")).isEqualTo(1500L);
        assertThat(Quantities.tokens("1B")).isEqualTo(1_000_000_000L);
        assertThatThrownBy(() -> Quantities.tokens("1.00005k")).hasMessageContaining("whole number");
        assertThat(Quantities.duration("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(Quantities.duration("50ms")).isEqualTo(Duration.ofMillis(50));
    }
}
