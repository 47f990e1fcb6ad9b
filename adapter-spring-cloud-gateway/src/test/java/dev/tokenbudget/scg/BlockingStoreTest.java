package dev.tokenbudget.scg;

import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A store that may block on I/O (Redis) must never be called on a Netty event loop: reserving and
 * settling run on Reactor's bounded elastic scheduler.
 */
@Import(BlockingStoreTest.BlockingStoreConfig.class)
class BlockingStoreTest extends GatewayTestBase {

    static final List<String> RESERVE_THREADS = new CopyOnWriteArrayList<>();
    static final List<String> SETTLE_THREADS = new CopyOnWriteArrayList<>();

    @TestConfiguration(proxyBeanMethods = false)
    static class BlockingStoreConfig {
        @Bean
        BudgetStore blockingStore() {
            return new ThreadRecordingStore();
        }
    }

    @Test
    void reserveAndSettleRunOffTheEventLoop() {
        RESERVE_THREADS.clear();
        SETTLE_THREADS.clear();
        for (boolean stream : new boolean[]{false, true}) {
            client().post().uri("/v1/chat/completions").header(HttpHeaders.AUTHORIZATION, "Bearer vk-it-team")
                    .contentType(MediaType.APPLICATION_JSON).bodyValue(chat("gpt-4o", 50, stream))
                    .exchange().expectStatus().isOk().expectBody().returnResult();
        }

        await("both settlements", () -> SETTLE_THREADS.size() == 2);
        assertThat(RESERVE_THREADS).hasSize(2).allSatisfy(t -> assertThat(t).startsWith("boundedElastic"));
        assertThat(SETTLE_THREADS).allSatisfy(t -> assertThat(t).startsWith("boundedElastic"));
    }

    /** The in-memory store, declaring {@code BLOCKING_IO} and noting which thread calls it. */
    static final class ThreadRecordingStore extends ForwardingStore {

        ThreadRecordingStore() {
            super(new InMemoryBudgetStore());
        }

        @Override
        public Set<Capability> capabilities() {
            return EnumSet.of(Capability.BLOCKING_IO);
        }

        @Override
        public ReserveResult reserve(ReserveCommand command) {
            RESERVE_THREADS.add(Thread.currentThread().getName());
            return delegate.reserve(command);
        }

        @Override
        public SettleResult settle(SettleCommand command) {
            SETTLE_THREADS.add(Thread.currentThread().getName());
            return delegate.settle(command);
        }
    }
}
