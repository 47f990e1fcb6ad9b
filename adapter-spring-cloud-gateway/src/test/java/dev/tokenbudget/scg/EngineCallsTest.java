package dev.tokenbudget.scg;

import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The inline calls (in-memory store): the continuation runs at once on the caller's thread with the
 * call's result, a failure of the call or of the continuation is the Mono's error (as inside
 * {@code flatMap}), and a stage not yet complete is waited for without blocking.
 */
class EngineCallsTest {

    private final EngineCalls inline = new EngineCalls(new InMemoryBudgetStore());

    @Test
    void theContinuationRunsAtOnceOnTheCallersThreadWithTheResult() {
        assertThat(inline.offloads()).isFalse();
        List<String> seen = new ArrayList<>();
        Mono<String> m = inline.call(() -> "id", r -> {
            seen.add(r + "@" + Thread.currentThread().getName());
            return Mono.just(r + "!");
        });
        assertThat(seen).containsExactly("id@" + Thread.currentThread().getName());
        assertThat(m.block()).isEqualTo("id!");

        seen.clear();
        Mono<String> a = inline.await(() -> CompletableFuture.completedFuture("ad"), r -> {
            seen.add(r);
            return Mono.just(r + "!");
        });
        assertThat(seen).containsExactly("ad");
        assertThat(a.block()).isEqualTo("ad!");
    }

    @Test
    void aFailureOfTheCallOrOfTheContinuationIsTheMonosError() {
        Mono<String> call = inline.call(() -> {
            throw new IllegalStateException("identify broke");
        }, r -> Mono.just("never"));
        assertThatThrownBy(call::block).hasMessageContaining("identify broke");
        Mono<String> then = inline.call(() -> "id", r -> {
            throw new IllegalStateException("admitted broke");
        });
        assertThatThrownBy(then::block).hasMessageContaining("admitted broke");
        Mono<String> stage = inline.await(() -> CompletableFuture.failedFuture(new IllegalStateException("store down")),
                r -> Mono.just("never"));
        assertThatThrownBy(stage::block).hasMessageContaining("store down");
        Mono<String> awaited = inline.await(() -> CompletableFuture.completedFuture("ad"), r -> {
            throw new IllegalStateException("plan broke");
        });
        assertThatThrownBy(awaited::block).hasMessageContaining("plan broke");
    }

    @Test
    void aStageStillOnItsWayIsWaitedForWithoutAThread() {
        CompletableFuture<String> reserving = new CompletableFuture<>();
        List<String> seen = new ArrayList<>();
        Mono<String> m = inline.await(() -> reserving, r -> {
            seen.add(r);
            return Mono.just(r + "!");
        });
        assertThat(seen).as("nothing runs before the stage completes").isEmpty();
        CompletableFuture<String> out = m.toFuture();
        assertThat(out).isNotDone();
        reserving.complete("late");
        assertThat(out).isCompletedWithValue("late!");
        assertThat(seen).containsExactly("late");
    }
}
