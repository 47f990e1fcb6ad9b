package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.redis.RedisScripts.Script;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.codec.StringCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Lua scripts called directly with EVALSHA against a real Redis, as the store calls them. */
class RedisScriptsTest {

    private static final Instant NOW = Instant.parse("2026-05-10T10:00:00Z");

    private RedisClient client;
    private StatefulRedisConnection<String, String> connection;
    private RedisCommands<String, String> redis;
    private String prefix;
    private RedisKeys keys;
    private final String tree = "org";

    @BeforeEach
    void connect() {
        client = RedisClient.create(TestRedis.uri());
        connection = client.connect(StringCodec.UTF8);
        redis = connection.sync();
        RedisScripts.loadAll(redis);
        prefix = TestRedis.uniquePrefix("lua");
        keys = new RedisKeys(prefix);
    }

    @AfterEach
    void disconnect() {
        connection.close();
        client.shutdown();
        TestKeys.deleteByPrefix(TestRedis.uri(), prefix);
    }

    private Slot month(String budget, long cap) {
        return new Slot(budget, WindowSpec.calendar(Period.MONTH, ZoneOffset.UTC).at(NOW), Limits.total(cap),
                Limits.total(cap), List.of(50, 100));
    }

    private List<Object> reserve(String lease, long ttlMs, long in, long out, Slot... slots) {
        String[] k = new String[2 + slots.length];
        k[0] = keys.leases(tree);
        k[1] = keys.expiries(tree);
        String[] a = new String[RedisBudgetStore.RESERVE_HEAD + SlotArgs.COUNT * slots.length];
        a[0] = lease;
        a[1] = Long.toString(ttlMs);
        a[2] = Long.toString(in);
        a[3] = Long.toString(out);
        a[4] = "32";
        a[5] = Long.toString(NOW.toEpochMilli());
        a[6] = "-1";
        for (int i = 0; i < slots.length; i++) {
            k[2 + i] = keys.window(tree, slots[i]);
            SlotArgs.write(a, RedisBudgetStore.RESERVE_HEAD + SlotArgs.COUNT * i, slots[i], null);
        }
        return redis.evalsha(Script.RESERVE.sha, ScriptOutputType.MULTI, k, a);
    }

    private List<Object> settle(String lease, long in, long out) {
        return redis.evalsha(Script.SETTLE.sha, ScriptOutputType.MULTI,
                new String[] {keys.leases(tree), keys.expiries(tree)}, lease, Long.toString(in), Long.toString(out),
                "0", "32");
    }

    @Test
    void scriptLoadReturnsTheDigestsTheStoreCallsWith() {
        for (Script s : Script.values()) {
            assertThat(redis.scriptExists(s.sha)).containsExactly(true);
            assertThat(redis.scriptLoad(s.body)).isEqualTo(s.sha);
        }
    }

    @Test
    void reserveChargesEveryWindowHashAndRecordsTheLeaseOnServerTime() {
        Slot team = month("team", 1_000);
        Slot org = month("org", 5_000);
        long before = Long.parseLong(redis.time().get(0)) * 1000;

        List<Object> r = reserve("l-1", 60_000, 30, 70, team, org);

        assertThat(r.get(1)).isEqualTo(1L);
        assertThat(r.get(0).toString()).isNotEmpty();
        assertThat(ScriptReplies.list(r.get(4))).containsExactly(0L, 0L, 0L, 30L, 70L, 100L, 0L, 0L, 0L, 30L, 70L, 100L);
        for (Slot s : List.of(team, org)) {
            Map<String, String> h = redis.hgetall(keys.window(tree, s));
            assertThat(h).containsEntry("ri", "30").containsEntry("ro", "70").containsEntry("rt", "100");
            long ttl = redis.pttl(keys.window(tree, s));
            long expected = Duration.between(NOW, s.window().expiresAt()).toMillis();
            assertThat(ttl).isPositive().isLessThanOrEqualTo(expected).isGreaterThan(expected - 60_000);
        }
        assertThat(redis.hexists(keys.leases(tree), "l-1")).isTrue();
        Double score = redis.zscore(keys.expiries(tree), "l-1");
        assertThat(score).isBetween((double) before + 60_000, (double) before + 120_000);
        assertThat(redis.pttl(keys.leases(tree))).isPositive();
        assertThat(redis.pttl(keys.expiries(tree))).isPositive();
    }

    @Test
    void everyKeyOfATreeHashesToOneClusterSlot() {
        Slot team = month("team", 1_000);
        reserve("l-1", 60_000, 1, 1, team);
        int slot = SlotHash.getSlot(keys.leases(tree));
        assertThat(SlotHash.getSlot(keys.expiries(tree))).isEqualTo(slot);
        assertThat(SlotHash.getSlot(keys.window(tree, team))).isEqualTo(slot);
        assertThat(SlotHash.getSlot(keys.window(tree, month("another-budget", 1)))).isEqualTo(slot);
        assertThat(keys.window(tree, team)).isEqualTo(prefix + ":{org}:w:team/" + team.window().key());
    }

    @Test
    void aRefusalWritesNothing() {
        Slot team = month("team", 100);
        List<Object> r = reserve("l-1", 60_000, 80, 21, team);
        assertThat(r.get(1)).isEqualTo(0L);
        assertThat(r.get(2)).isEqualTo(0L);
        assertThat(r.get(3)).isEqualTo(2L);
        assertThat(redis.exists(keys.window(tree, team))).isZero();
        assertThat(redis.hexists(keys.leases(tree), "l-1")).isFalse();
    }

    @Test
    void settleMovesTheLeaseAndReportsCrossingsOnce() {
        Slot team = month("team", 100);
        reserve("l-1", 60_000, 40, 40, team);

        List<Object> r = settle("l-1", 30, 30);

        assertThat(r.get(1)).isEqualTo(0L);
        List<?> crossings = (List<?>) r.get(2);
        assertThat(crossings).hasSize(1);
        assertThat(ScriptReplies.list(crossings.get(0))).containsExactly("team", team.window().key(), 50L, 30L, 30L, 60L, -1L,
                -1L, 100L);
        Map<String, String> h = redis.hgetall(keys.window(tree, team));
        assertThat(h).containsEntry("ri", "0").containsEntry("i0", "30").containsEntry("t0", "60")
                .containsEntry("fp", ",50,");
        assertThat(settle("l-1", 30, 30).get(1)).isEqualTo(2L);
        assertThat(redis.zscore(keys.expiries(tree), "l-1")).isNull();
    }

    @Test
    void anExpiredLeaseIsChargedByTheExpireScript() {
        Slot team = month("team", 1_000);
        reserve("l-1", 1, 5, 7, team);
        RedisTime.waitFor(TestRedis.port(), Duration.ofMillis(2));

        List<Object> r = redis.evalsha(Script.EXPIRE.sha, ScriptOutputType.MULTI,
                new String[] {keys.leases(tree), keys.expiries(tree)}, "10");

        List<?> expired = (List<?>) r.get(1);
        assertThat(expired).hasSize(1);
        assertThat(ScriptReplies.list(expired.get(0)).subList(0, 5)).containsExactly("l-1", 5L, 7L, 12L, List.of("team"));
        assertThat(r.get(2)).isEqualTo(0L);
        assertThat(redis.hgetall(keys.window(tree, team))).containsEntry("i0", "5").containsEntry("o0", "7")
                .containsEntry("rt", "0");
    }

    private static final WindowSpec HOUR = WindowSpec.rolling(Duration.ofHours(1));

    /** The rolling hour (60 one-minute buckets) as seen at NOW plus {@code minutes}. */
    private Slot hour(String budget, int minutes) {
        return new Slot(budget, HOUR.at(NOW.plus(Duration.ofMinutes(minutes))), Limits.total(1_000_000),
                Limits.total(1_000_000), List.of(50, 100));
    }

    private void use(String lease, long tokens, Slot s) {
        reserve(lease, 60_000, 0, 0, s);
        settle(lease, tokens, 0);
    }

    private List<Object> readScript(Slot s) {
        return redis.evalsha(Script.READ.sha, ScriptOutputType.MULTI, new String[] {keys.window(tree, s)},
                Long.toString(s.window().bucket()), Integer.toString(s.window().bucketCount()));
    }

    @Test
    void aRollingWindowKeepsRunningSumsAndDropsBucketsAsTheyRollOff() {
        use("a", 10, hour("team", 0));
        use("b", 20, hour("team", 10));
        use("c", 40, hour("team", 30));
        String key = keys.window(tree, hour("team", 0));
        long b0 = hour("team", 0).window().bucket();
        assertThat(redis.hmget(key, "ui", "ut", "hb")).extracting(kv -> kv.getValue())
                .containsExactly("70", "70", Long.toString(b0 + 30));

        use("d", 5, hour("team", 65));

        assertThat(redis.hget(key, "ut")).isEqualTo("65");
        assertThat(redis.hexists(key, "t" + b0)).isFalse();
        assertThat(redis.hget(key, "t" + (b0 + 10))).isEqualTo("20");
        assertThat(readScript(hour("team", 65))).containsExactly(65L, 0L, 65L, 0L, 0L, 0L);

        use("e", 1, hour("team", 200));

        assertThat(redis.hkeys(key)).filteredOn(f -> f.matches("[iot]\\d+"))
                .containsExactlyInAnyOrder("i" + (b0 + 200), "t" + (b0 + 200));
        assertThat(redis.hget(key, "ut")).isEqualTo("1");
    }

    @Test
    void anEngineWhoseClockLagsCountsTheLiveBucketsUpToItsOwn() {
        use("a", 10, hour("team", 7));
        use("b", 20, hour("team", 9));
        use("c", 40, hour("team", 10));

        assertThat(readScript(hour("team", 9))).containsExactly(30L, 0L, 30L, 0L, 0L, 0L);
        assertThat(readScript(hour("team", 8))).containsExactly(10L, 0L, 10L, 0L, 0L, 0L);
        List<Object> r = reserve("lagging", 60_000, 1, 0, hour("team", 9));
        assertThat(ScriptReplies.list(r.get(4))).containsExactly(30L, 0L, 30L, 1L, 0L, 1L);
        settle("lagging", 5, 0);

        assertThat(readScript(hour("team", 9))).containsExactly(35L, 0L, 35L, 0L, 0L, 0L);
        assertThat(readScript(hour("team", 10))).containsExactly(75L, 0L, 75L, 0L, 0L, 0L);
        assertThat(redis.hget(keys.window(tree, hour("team", 10)), "ut")).isEqualTo("75");
    }

    @Test
    void aRollingWindowWrittenWithoutRunningSumsIsSummedFromItsBuckets() {
        Slot s = hour("team", 0);
        long b = s.window().bucket();
        String key = keys.window(tree, s);
        // the layout before running sums: buckets and hb only
        redis.hset(key, Map.of("i" + (b - 2), "7", "t" + (b - 2), "7", "t" + b, "5", "o" + b, "5", "hb",
                Long.toString(b)));

        assertThat(readScript(s)).containsExactly(7L, 5L, 12L, 0L, 0L, 0L);
        use("a", 3, s);

        assertThat(redis.hmget(key, "ui", "uo", "ut")).extracting(kv -> kv.getValue())
                .containsExactly("10", "5", "15");
    }

    @Test
    void aLeaseWrittenBeforeAllocationExistedStillSettles() {
        Slot team = month("team", 1_000);
        String wkey = keys.window(tree, team);
        // the window's expiry as a lease records it: server time plus the window's lifetime
        long wexp = Long.parseLong(redis.time().get(0)) * 1000 + 86_400_000;
        // the lease as reserve.lua packed it before allocation: {ri, ro, rt, then nine fields per slot}
        redis.eval("redis.call('HSET', KEYS[1], ARGV[1], cmsgpack.pack({5, 7, 12, 'team', ARGV[2], 0, 1, "
                + "tonumber(ARGV[3]), -1, -1, 1000, '50,100'})) redis.call('HSET', KEYS[3], 'ri', '5', 'ro', '7', "
                + "'rt', '12') redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) return 1", ScriptOutputType.INTEGER,
                new String[] {keys.leases(tree), keys.expiries(tree), wkey}, "old-1", team.window().key(),
                Long.toString(wexp), "+inf");

        List<Object> r = settle("old-1", 4, 6);

        assertThat(r.get(1)).isEqualTo(0L);
        assertThat(redis.hgetall(wkey)).containsEntry("i0", "4").containsEntry("o0", "6").containsEntry("t0", "10")
                .containsEntry("rt", "0").doesNotContainKeys("pi", "di");
    }

    @Test
    void readReturnsUsedAndReservedWithoutWriting() {
        Slot team = month("team", 1_000);
        reserve("l-1", 60_000, 5, 7, team);
        List<Object> r = redis.evalsha(Script.READ.sha, ScriptOutputType.MULTI,
                new String[] {keys.window(tree, team), keys.window(tree, month("absent", 1))}, "0", "1", "0", "1");
        assertThat(r).containsExactly(0L, 0L, 0L, 5L, 7L, 12L, 0L, 0L, 0L, 0L, 0L, 0L);
        assertThat(redis.exists(keys.window(tree, month("absent", 1)))).isZero();
    }

    @Test
    void numbersBeyondTwoToThe53AreRefusedByTheScriptItself() {
        Slot team = month("team", 1_000);
        assertThatThrownBy(() -> reserve("l-1", 60_000, 1L << 53, 0, team))
                .isInstanceOf(RedisCommandExecutionException.class)
                .hasMessageContaining("tokenbudget: input must be a whole number in -1..2^53-1");
        assertThatThrownBy(() -> settle("l-1", 1, (1L << 53) + 2))
                .isInstanceOf(RedisCommandExecutionException.class).hasMessageContaining("tokenbudget: output");
        assertThatThrownBy(() -> redis.evalsha(Script.RESERVE.sha, ScriptOutputType.MULTI,
                new String[] {keys.leases(tree), keys.expiries(tree), keys.window(tree, team)}, "l-2", "1000", "1",
                "1", "32"))
                .isInstanceOf(RedisCommandExecutionException.class).hasMessageContaining("arguments for 1 slots");
        assertThat(redis.exists(keys.window(tree, team))).isZero();
    }

    @Test
    void anUnknownDigestAnswersNoScript() {
        assertThatThrownBy(() -> redis.evalsha("0000000000000000000000000000000000000000", ScriptOutputType.MULTI,
                new String[] {keys.leases(tree)}))
                .isInstanceOf(RedisNoScriptException.class);
    }
}
