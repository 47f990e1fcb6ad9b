package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link RedisMatchesInMemoryTest} in batches: each round's reserves and settles (a lease may be
 * reserved and settled in the same round, and a round may refuse some) are issued on Redis all at
 * once without waiting, so that they travel in few calls of batch.lua, and one by one on the
 * in-memory store; every reply and the state after each round must be equal. Windows read and
 * written through the script's write-back cache (rolling buckets that roll off, thresholds that
 * fire, draws of the same window twice in a batch) must end as the commands run alone leave them.
 * A private {@code redis-server}, so that {@code INFO commandstats} counts this test's calls only.
 */
class RedisBatchMatchesInMemoryTest {

    private static final Instant T0 = Instant.parse("2026-05-10T10:00:00Z");
    private static final WindowSpec HOUR = WindowSpec.rolling(Duration.ofHours(1));
    private static final WindowSpec MONTH = WindowSpec.calendar(Period.MONTH, ZoneOffset.UTC);
    private static final List<Integer> THRESHOLDS = List.of(50, 75, 90, 100);

    private RedisTestServer server;
    private final BudgetStore memory = new InMemoryBudgetStore();
    private BudgetStore redis;

    @BeforeEach
    void open() {
        server = RedisTestServer.start();
        redis = RedisBudgetStore.open(server.uri(), Duration.ofSeconds(10), "tbtest-batchdiff");
    }

    @AfterEach
    void close() {
        redis.close();
        server.close();
    }

    private static List<Slot> path(Instant t) {
        return List.of(
                new Slot("team", HOUR.at(t), Limits.total(1_000), Limits.total(1_000), THRESHOLDS),
                new Slot("org", HOUR.at(t), new Limits(600, Limits.NONE, 1_500), new Limits(600, Limits.NONE, 1_500),
                        THRESHOLDS),
                new Slot("org", MONTH.at(t), Limits.total(50_000), Limits.total(50_000), THRESHOLDS));
    }

    @ParameterizedTest
    @ValueSource(longs = {11, 12, 13})
    void everyReplyOfEveryBatchIsTheOneTheInMemoryStoreGives(long seed) throws Exception {
        Random random = new Random(seed);
        String tree = "b" + seed;
        Instant clock = T0;
        Map<String, Instant> open = new LinkedHashMap<>();
        long commands = 0;
        long before = scriptCalls();
        for (int round = 0; round < 60; round++) {
            clock = clock.plusSeconds(random.nextInt(100) < 10 ? random.nextInt(7_200) : random.nextInt(240));
            Instant now = clock;
            List<Object> batch = new ArrayList<>();
            List<Object> expected = new ArrayList<>();
            // leases settle within 40 minutes, as in RedisMatchesInMemoryTest (no lease outlives its rolling hour)
            Instant cutoff = now.minus(Duration.ofMinutes(40));
            for (Map.Entry<String, Instant> e : List.copyOf(open.entrySet())) {
                if (e.getValue().isBefore(cutoff)) {
                    SettleCommand c = new SettleCommand(tree, e.getKey(), now, 0, random.nextInt(300), false);
                    open.remove(e.getKey());
                    batch.add(c);
                    expected.add(memory.settle(c));
                }
            }
            int n = 1 + random.nextInt(12);
            for (int i = 0; i < n; i++) {
                if (open.isEmpty() || random.nextInt(100) < 60) {
                    String lease = "l" + round + "-" + i;
                    ReserveCommand c = new ReserveCommand(tree, lease, now, now.plus(Duration.ofDays(60)), path(now),
                            random.nextInt(200), random.nextInt(250), null);
                    batch.add(c);
                    var m = memory.reserve(c);
                    expected.add(m);
                    // settled later, possibly in this same batch; a refused one is settled as unknown
                    open.put(lease, now);
                } else {
                    List<String> ids = List.copyOf(open.keySet());
                    String lease = ids.get(random.nextInt(ids.size()));
                    open.remove(lease);
                    SettleCommand c = random.nextInt(6) == 0 ? SettleCommand.release(tree, lease, now)
                            : new SettleCommand(tree, lease, now, random.nextInt(300), random.nextInt(300), false);
                    batch.add(c);
                    expected.add(memory.settle(c));
                }
            }
            List<CompletableFuture<?>> sent = new ArrayList<>();
            for (Object c : batch) {
                sent.add(c instanceof ReserveCommand r ? redis.reserveAsync(r).toCompletableFuture()
                        : redis.settleAsync((SettleCommand) c).toCompletableFuture());
            }
            for (int i = 0; i < sent.size(); i++) {
                assertThat(sent.get(i).get(30, TimeUnit.SECONDS)).as("command %d of round %d: %s", i, round,
                        batch.get(i)).usingRecursiveComparison().isEqualTo(expected.get(i));
            }
            commands += batch.size();
            assertThat(redis.read(tree, path(now), now)).as("read after round %d", round)
                    .isEqualTo(memory.read(tree, path(now), now));
        }
        // reads are script calls too (one per round); the rounds' commands shared far fewer
        assertThat(scriptCalls() - before).as("script calls for %d commands and 60 reads", commands)
                .isLessThan(commands);
    }

    private long scriptCalls() throws IOException {
        long calls = 0;
        for (String line : server.command("INFO", "commandstats").split("\\r?\\n")) {
            if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
                String c = line.substring(line.indexOf("calls=") + 6);
                calls += Long.parseLong(c.substring(0, c.indexOf(',')));
            }
        }
        return calls;
    }
}
