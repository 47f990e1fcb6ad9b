package dev.tokenbudget.scg;

import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.block.BlockStore;
import dev.tokenbudget.store.redis.RedisBudgetStore;
import dev.tokenbudget.store.redis.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The filter on a real Redis in token blocks ({@link BlockStore}): the store keeps
 * {@code ASYNC_DECISIONS}, so reserves and settles are called on the event loop through the
 * asynchronous calls, never the blocking ones and never on {@code boundedElastic}, and requests are
 * decided from blocks.
 */
@Import(RedisBlocksEventLoopTest.BlocksConfig.class)
class RedisBlocksEventLoopTest extends GatewayTestBase {

    static final String PREFIX = TestRedis.uniquePrefix("scg-blocks");
    static final List<String> ASYNC_THREADS = new CopyOnWriteArrayList<>();
    static final List<String> BLOCKING_CALLS = new CopyOnWriteArrayList<>();
    static final RecordingStore STORE = new RecordingStore(new BlockStore(
            RedisBudgetStore.open(TestRedis.uri(), Duration.ofSeconds(5), PREFIX),
            BlockSettings.of(16, 0.5, Duration.ofSeconds(30))));

    @TestConfiguration(proxyBeanMethods = false)
    static class BlocksConfig {
        @Bean
        BudgetStore blockStore() {
            return STORE;
        }
    }

    @AfterAll
    static void clean() {
        STORE.close();
        TestRedis.deleteKeys(PREFIX);
    }

    @Test
    void reservesAndSettlesRunOnTheEventLoopThroughTheAsynchronousCalls() {
        assertThat(new EngineCalls(STORE).offloads()).isFalse();
        for (int i = 0; i < 6; i++) {
            client().post().uri("/v1/chat/completions").header(HttpHeaders.AUTHORIZATION, "Bearer vk-it-team")
                    .contentType(MediaType.APPLICATION_JSON).bodyValue(chat("gpt-4o", 50, i % 2 == 1))
                    .exchange().expectStatus().isOk().expectBody().returnResult();
        }
        await("every settle", () -> ASYNC_THREADS.stream().filter(t -> t.startsWith("settle ")).count() == 6);
        assertThat(BLOCKING_CALLS).as("no blocking reserve or settle").isEmpty();
        assertThat(ASYNC_THREADS).hasSize(12).noneMatch(t -> t.contains("boundedElastic"))
                .filteredOn(t -> t.startsWith("reserve ")).allMatch(t -> t.matches("reserve (reactor|webflux)-http-.*"), "on a Netty event loop");
        assertThat(STORE.blocks().stats().carved()).as("decided from blocks").isPositive();
    }

    /** The block store, noting which thread calls its decisions. */
    static final class RecordingStore extends ForwardingStore {
        private final AtomicBoolean closed = new AtomicBoolean();

        RecordingStore(BlockStore delegate) {
            super(delegate);
        }

        BlockStore blocks() {
            return (BlockStore) delegate;
        }

        @Override
        public ReserveResult reserve(ReserveCommand command) {
            BLOCKING_CALLS.add("reserve " + Thread.currentThread().getName());
            return delegate.reserve(command);
        }

        @Override
        public SettleResult settle(SettleCommand command) {
            BLOCKING_CALLS.add("settle " + Thread.currentThread().getName());
            return delegate.settle(command);
        }

        @Override
        public CompletionStage<ReserveResult> reserveAsync(ReserveCommand command) {
            ASYNC_THREADS.add("reserve " + Thread.currentThread().getName());
            return delegate.reserveAsync(command);
        }

        @Override
        public CompletionStage<SettleResult> settleAsync(SettleCommand command) {
            ASYNC_THREADS.add("settle " + Thread.currentThread().getName());
            return delegate.settleAsync(command);
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                delegate.close();
            }
        }
    }
}
