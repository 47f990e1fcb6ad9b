package dev.tokenbudget.store.redis;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetStatus;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.TokenCounts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several engine instances, each with its own Lettuce client, and one engine in a separate JVM,
 * hammer one budget tree at once: admission never passes the cap by more than the documented
 * bound, used equals the sum of what was settled, and no lease settles twice.
 */
class RedisMultiInstanceTest {

    private static final String SECRET = "sk-hammer-1";
    private static final long ORG_CAP = 25_000;

    @TempDir
    Path dir;
    private final String prefix = TestRedis.uniquePrefix("multi");

    @AfterEach
    void deleteKeys() {
        TestKeys.deleteByPrefix(TestRedis.uri(), prefix);
    }

    static String config(String uri, String prefix) {
        return """
                version: 1
                store:
                  type: redis
                  redis:
                    uri: %s
                    timeout: 5s
                    key_prefix: %s
                budgets:
                  - id: org
                    windows:
                      - period: month
                        limits: {total: %d}
                    thresholds:
                      - {at: 75, policy: alert_only}
                      - {at: 100, policy: hard_stop}
                  - id: team
                    parent: org
                    windows:
                      - period: rolling
                        length: 24h
                        limits: {total: 1000000}
                    thresholds:
                      - {at: 100, policy: hard_stop}
                keys:
                  - name: hammer
                    sha256: %s
                    budget: team
                """.formatted(uri, prefix, ORG_CAP, KeyHash.of(SECRET));
    }

    @Test
    void enginesInTwoProcessesNeverPassTheCapBeyondTheBoundAndConserveSettlements() throws Exception {
        String yaml = config(TestRedis.uri(), prefix);
        Path file = dir.resolve("engine.yaml");
        Files.writeString(file, yaml);
        EngineConfig config = ConfigLoader.parse(yaml);

        Process other = startHammerJvm(file, 4, 600, 99);
        List<BudgetEngine> engines = new ArrayList<>();
        List<BudgetStore> rivals = new ArrayList<>();
        try {
            List<CompletableFuture<StoreHammer.Result>> runs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                BudgetEngine e = BudgetEngine.builder(config).build();
                BudgetStore rival = RedisBudgetStore.open(config.store());
                engines.add(e);
                rivals.add(rival);
                long seed = i;
                runs.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return StoreHammer.run(e, rival, SECRET, 6, 300, seed);
                    } catch (Exception ex) {
                        throw new IllegalStateException(ex);
                    }
                }));
            }
            StoreHammer.Result total = new StoreHammer.Result(0, 0, 0, 0, 0, 0);
            for (CompletableFuture<StoreHammer.Result> r : runs) {
                total = total.plus(r.get(5, TimeUnit.MINUTES));
            }
            total = total.plus(awaitHammerJvm(other));

            BudgetStatus org = engines.get(0).status("org").orElseThrow();
            BudgetStatus team = engines.get(1).status("team").orElseThrow();
            TokenCounts used = org.windows().get(0).used();

            assertThat(total.rejected()).as("the cap was reached").isPositive();
            assertThat(total.admitted()).isPositive();
            assertThat(total.doubleSettles()).as("leases settled a second time by another instance").isZero();
            assertThat(used).isEqualTo(TokenCounts.of(total.settledInput(), total.settledOutput()));
            assertThat(team.windows().get(0).used()).isEqualTo(used);
            assertThat(org.windows().get(0).reserved()).isEqualTo(TokenCounts.ZERO);
            assertThat(used.total()).as("used <= cap + sum of settlements above their reservation")
                    .isLessThanOrEqualTo(ORG_CAP + total.excess());
        } finally {
            other.destroyForcibly();
            engines.forEach(BudgetEngine::close);
            rivals.forEach(BudgetStore::close);
        }
    }

    private static Process startHammerJvm(Path config, int threads, int requests, long seed) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return new ProcessBuilder(java, "-cp", cp, StoreHammer.class.getName(), config.toString(), SECRET,
                Integer.toString(threads), Integer.toString(requests), Long.toString(seed))
                .redirectErrorStream(true).start();
    }

    private static StoreHammer.Result awaitHammerJvm(Process p) throws Exception {
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "cannot read output: " + e;
            }
        });
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("the hammer JVM finished").isTrue();
        String out = output.get(1, TimeUnit.MINUTES);
        assertThat(p.exitValue()).as("hammer JVM output:%n%s", out).isZero();
        String line = out.lines().filter(l -> l.startsWith("HAMMER ")).findFirst()
                .orElseThrow(() -> new AssertionError("no HAMMER line in:\n" + out));
        return StoreHammer.Result.parse(line);
    }
}
