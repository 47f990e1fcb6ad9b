package dev.tokenbudget.store.block;

import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import dev.tokenbudget.store.redis.RedisTestServer;
import dev.tokenbudget.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The next block reserved ahead, against a private {@code redis-server} that {@code CLIENT PAUSE}
 * holds: requests keep being decided from the open block while the next one's reservation is held,
 * a request that fits no block waits for it on a stage (no thread), and every token is counted once.
 */
class BlockRenewalTest {

    private static final BlockSettings BLOCKS = BlockSettings.of(16, 0.5, Duration.ofSeconds(30)).withRenewBelow(0.5);

    private RedisTestServer redis;
    private final List<BudgetStore> opened = new ArrayList<>();

    @BeforeEach
    void start() {
        redis = RedisTestServer.start();
    }

    @AfterEach
    void stop() throws IOException {
        try {
            redis.command("CLIENT", "UNPAUSE");
            opened.forEach(BudgetStore::close);
        } finally {
            redis.close();
        }
    }

    private RedisBudgetStore redis() {
        RedisBudgetStore s = RedisBudgetStore.open(redis.uri(), Duration.ofSeconds(20), "renew");
        opened.add(s);
        return s;
    }

    private static ReserveCommand request(String lease, Instant now, long in, long out) {
        return new ReserveCommand("t", lease, now, now.plusSeconds(600), BlockStoreTest.path(now), in, out);
    }

    @Test
    void requestsKeepBeingDecidedFromTheOpenBlockWhileTheNextOneIsHeldAndOneWaitsWithoutAThread() throws Exception {
        BlockStore blocks = new BlockStore(redis(), BLOCKS);
        opened.add(blocks);
        Instant now = Instant.parse("2026-05-10T10:00:00Z");
        assertThat(blocks.reserve(request("first", now, 100, 100)).admitted()).isTrue(); // learns the path
        blocks.settle(new SettleCommand("t", "first", now, 10, 10, false));
        assertThat(blocks.reserve(request("r0", now, 100, 100)).admitted()).isTrue(); // a block of 16
        assertThat(blocks.stats().blocks()).isEqualTo(1);

        assertThat(redis.command("CLIENT", "PAUSE", "60000", "WRITE")).isEqualTo("+OK");
        // 15 more fit the block; from the 9th on less than half of it is left: the next is asked for
        List<CompletableFuture<ReserveResult>> carved = new ArrayList<>();
        for (int i = 1; i < 16; i++) {
            carved.add(blocks.reserveAsync(request("r" + i, now, 100, 100)).toCompletableFuture());
        }
        assertThat(carved).as("decided in memory while Redis holds the next block's reservation")
                .allSatisfy(f -> assertThat(f).isCompletedWithValueMatching(ReserveResult::admitted));
        assertThat(blocks.stats().renewedAhead()).isEqualTo(1);
        assertThat(blocks.stats().blocks()).isEqualTo(1);
        // the block is used up: this one waits for the next block, on a stage
        CompletableFuture<ReserveResult> waiting = blocks.reserveAsync(request("r16", now, 100, 100))
                .toCompletableFuture();
        assertThat(waiting).as("returned while Redis is paused, not completed").isNotDone();
        assertThat(blocks.stats().waited()).as("r0 for the first block, r16 for the next").isEqualTo(2);
        // a settle from the block, meanwhile, is in memory too
        assertThat(blocks.settleAsync(new SettleCommand("t", "r1", now, 60, 40, false)).toCompletableFuture())
                .isCompletedWithValueMatching(r -> r.status() == SettleResult.Status.SETTLED);

        assertThat(redis.command("CLIENT", "UNPAUSE")).isEqualTo("+OK");
        ReserveResult r = waiting.get(30, TimeUnit.SECONDS);
        assertThat(r.admitted()).isTrue();
        assertThat(blocks.stats().blocks()).isEqualTo(2);
        assertThat(blocks.stats().carved()).isEqualTo(17);
        // what the request from the next block reports counts the first block's requests one by one:
        // 10 + 60 / 10 + 40 used; 15 requests of 100 in flight from the first block, and this one
        SlotState day = r.states().get(0);
        assertThat(day.used()).isEqualTo(TokenCounts.of(10 + 60, 10 + 40));
        assertThat(day.reserved()).isEqualTo(TokenCounts.of(16 * 100, 16 * 100));

        long in = 10 + 60;
        long out = 10 + 40;
        for (int i = 0; i <= 16; i++) {
            if (i != 1) {
                blocks.settle(new SettleCommand("t", "r" + i, now, 7, 3, false));
                in += 7;
                out += 3;
            }
        }
        blocks.close();
        assertThat(redis().read("t", BlockStoreTest.path(now), now).get(0))
                .isEqualTo(new SlotState(TokenCounts.of(in, out), TokenCounts.ZERO));
    }

    @Test
    void aNextBlockNobodyNeedsIsGivenBackUncharged() throws Exception {
        BlockStore blocks = new BlockStore(redis(), BlockSettings.of(8, 0.5, Duration.ofMillis(300)).withRenewBelow(0.5));
        opened.add(blocks);
        Instant now = Instant.parse("2026-05-10T10:00:00Z");
        blocks.reserve(request("first", now, 100, 100));
        blocks.settle(new SettleCommand("t", "first", now, 10, 10, false));
        for (int i = 0; i < 5; i++) { // a block of 8; the 5th leaves less than half: the next one is reserved
            blocks.reserve(request("r" + i, now, 100, 100));
            blocks.settle(new SettleCommand("t", "r" + i, now, 100, 100, false));
        }
        assertThat(blocks.stats().renewedAhead()).isEqualTo(1);
        RedisBudgetStore plain = redis();
        // both blocks retire within a few flush intervals and are settled: only what was used is counted
        Poll.until(Duration.ofSeconds(5), Duration.ofMillis(50), () -> blocks.stats().flushes() == 2
                && plain.read("t", BlockStoreTest.path(now), now).get(0).reserved().equals(TokenCounts.ZERO));
        SlotState day = plain.read("t", BlockStoreTest.path(now), now).get(0);
        assertThat(day).isEqualTo(new SlotState(TokenCounts.of(510, 510), TokenCounts.ZERO));
        assertThat(blocks.stats().flushes()).as("the first block settled, the next released").isEqualTo(2);
        assertThat(blocks.stats().blocks()).isEqualTo(2);
    }
}
