package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.StoreUnavailableException;
import dev.tokenbudget.store.redis.RedisScripts.Script;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Paths sent once per call of batch.lua: {@link TreeBatcher} against a real Redis, its first call
 * held back (the sender waits on a gate before it forwards) so that the next commands queue into
 * one call, deterministically.
 */
class RedisBatchPathsTest {

    private static final Instant NOW = Instant.now();
    private final String tree = "org";
    private RedisClient client;
    private StatefulRedisConnection<String, String> connection;
    private RedisKeys keys;
    private String prefix;
    private final List<String[]> sent = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Void> gate = new CompletableFuture<>();
    private TreeBatcher batcher;

    @BeforeEach
    void connect() {
        client = RedisClient.create(TestRedis.uri());
        connection = client.connect(StringCodec.UTF8);
        RedisScripts.loadAll(connection.sync());
        prefix = TestRedis.uniquePrefix("paths");
        keys = new RedisKeys(prefix);
        batcher = new TreeBatcher((t, k, a) -> {
            boolean first = sent.isEmpty();
            sent.add(a);
            CompletableFuture<Void> wait = first ? gate : CompletableFuture.completedFuture(null);
            return wait.thenCompose(x -> RedisScripts.<List<Object>>runAsync(connection.async(), Script.BATCH,
                    ScriptOutputType.MULTI, k, a, t, why -> { }));
        }, keys, 32);
    }

    @AfterEach
    void disconnect() {
        connection.close();
        client.shutdown();
        TestKeys.deleteByPrefix(TestRedis.uri(), prefix);
    }

    private static Slot month(String budget, long cap) {
        return new Slot(budget, WindowSpec.calendar(Period.MONTH, ZoneOffset.UTC).at(NOW), Limits.total(cap),
                Limits.total(cap), List.of(50, 100));
    }

    private ReservePath path(Slot... slots) {
        String[] k = new String[slots.length];
        String[] p = new String[slots.length * SlotArgs.COUNT];
        for (int i = 0; i < slots.length; i++) {
            k[i] = keys.window(tree, slots[i]);
            SlotArgs.write(p, i * SlotArgs.COUNT, slots[i], null);
        }
        return new ReservePath(k, p);
    }

    private CompletableFuture<List<Object>> reserve(ReservePath p, String lease, long total) {
        return batcher.submit(tree, new TreeBatcher.Command('r', p, new String[] {lease, "60000", "0",
            Long.toString(total), "32", Long.toString(NOW.toEpochMilli()), "-1"}));
    }

    private long reservedTotal(Slot s) {
        String v = connection.sync().hget(keys.window(tree, s), "rt");
        return v == null ? 0 : Long.parseLong(v);
    }

    @Test
    void reservesOnOnePathShareItsArgumentsAndEachIsCharged() throws Exception {
        Slot team = month("team", 1_000);
        Slot org = month("org", 5_000);
        // the first call is held in flight: the next four commands queue into one call
        CompletableFuture<List<Object>> first = reserve(path(team, org), "l-0", 1);
        CompletableFuture<List<Object>> a = reserve(path(team, org), "l-1", 10);
        CompletableFuture<List<Object>> b = reserve(path(org), "l-2", 100);
        CompletableFuture<List<Object>> c = reserve(path(team, org), "l-3", 2_000);
        CompletableFuture<List<Object>> d = batcher.submit(tree, new TreeBatcher.Command('s', null,
                new String[] {"l-1", "0", "7", "0", "32"}));
        gate.complete(null);
        for (CompletableFuture<List<Object>> f : List.of(first, a, b, c, d)) {
            f.get(10, TimeUnit.SECONDS);
        }

        assertThat(sent).hasSize(2);
        String[] call = sent.get(1);
        // expiry batch, path count, two paths (slot count + settings), three reserves ('r', path, head), a settle
        assertThat(call).hasSize(2 + (1 + 2 * SlotArgs.COUNT) + (1 + SlotArgs.COUNT)
                + 3 * (2 + RedisBudgetStore.RESERVE_HEAD) + 6);
        assertThat(call[1]).isEqualTo("2");
        assertThat(a.get().get(1)).isEqualTo(1L);
        assertThat(b.get().get(1)).isEqualTo(1L);
        // refused by team's cap of 1,000 after l-0 and l-1: binding slot 0 (team)
        assertThat(c.get().get(1)).isEqualTo(0L);
        assertThat(c.get().get(2)).isEqualTo(0L);
        assertThat(d.get().get(1)).isEqualTo(0L);
        assertThat(reservedTotal(team)).isEqualTo(1);
        assertThat(reservedTotal(org)).isEqualTo(1 + 100);
        assertThat(connection.sync().hget(keys.window(tree, org), "t0")).isEqualTo("7");
    }

    @Test
    void aPathWithABadArgumentFailsOnlyTheCommandsThatNameIt() throws Exception {
        Slot team = month("team", 1_000);
        Slot org = month("org", 5_000);
        ReservePath bad = path(team, org);
        bad.args()[SlotArgs.COUNT + 5] = "lots"; // org's input cap
        CompletableFuture<List<Object>> first = reserve(path(org), "l-0", 1);
        CompletableFuture<List<Object>> refused = reserve(bad, "l-1", 10);
        CompletableFuture<List<Object>> fine = reserve(path(team), "l-2", 20);
        gate.complete(null);
        first.get(10, TimeUnit.SECONDS);

        assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("cap must be a whole number").hasMessageContaining("lots");
        assertThat(fine.get(10, TimeUnit.SECONDS).get(1)).isEqualTo(1L);
        assertThat(reservedTotal(team)).isEqualTo(20);
        assertThat(reservedTotal(org)).isEqualTo(1);
        assertThat(connection.sync().hexists(keys.leases(tree), "l-1")).isFalse();
    }
}
