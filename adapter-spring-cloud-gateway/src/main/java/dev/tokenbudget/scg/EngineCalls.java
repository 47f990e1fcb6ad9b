package dev.tokenbudget.scg;

import dev.tokenbudget.store.BudgetStore;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Where engine calls run. The filter calls only the engine's non-blocking paths (identify,
 * {@code admitAsync}, the meter's settle through {@code settleAsync}), so calls run inline on the
 * event loop when the store answers in microseconds (in memory) or decides without blocking
 * ({@link BudgetStore.Capability#ASYNC_DECISIONS}, Redis: the stage completes on Lettuce's I/O
 * thread). Only a store that may block on network I/O and has no non-blocking decisions
 * ({@link BudgetStore.Capability#BLOCKING_IO} alone, a custom store) is called on Reactor's
 * bounded elastic scheduler, so that no event loop thread waits on it.
 */
final class EngineCalls {

    private final boolean offload;

    EngineCalls(BudgetStore store) {
        this.offload = store.capabilities().contains(BudgetStore.Capability.BLOCKING_IO)
                && !store.capabilities().contains(BudgetStore.Capability.ASYNC_DECISIONS);
    }

    boolean offloads() {
        return offload;
    }

    /**
     * A call whose result the request waits for (identify), then what the request does with it.
     * Inline, both run now, on the caller's thread (the filter runs as the exchange is subscribed):
     * no Mono of the result and no operator to pass it through, one Reactor assembly fewer per
     * request than {@code Mono.just(result).flatMap(then)}; a failure of either becomes the Mono's
     * error, as it would inside {@code flatMap}.
     */
    <T, R> Mono<R> call(Supplier<T> call, Function<? super T, Mono<R>> then) {
        if (offload) {
            return Mono.fromSupplier(call).subscribeOn(Schedulers.boundedElastic()).flatMap(then);
        }
        try {
            return then.apply(call.get());
        } catch (RuntimeException e) {
            return Mono.error(e);
        }
    }

    /**
     * A call that answers with a stage (admit), then what the request does with its result: once
     * the stage completes, without a thread waiting for it; a stage complete when the call returns
     * (in memory) is read at once and {@code then} runs now, as in {@link #call(Supplier, Function)}.
     */
    <T, R> Mono<R> await(Supplier<? extends CompletionStage<T>> call, Function<? super T, Mono<R>> then) {
        if (offload) {
            return Mono.fromSupplier(call).subscribeOn(Schedulers.boundedElastic()).flatMap(Mono::fromCompletionStage)
                    .flatMap(then);
        }
        try {
            CompletionStage<T> stage = call.get();
            if (stage instanceof CompletableFuture<T> f && f.isDone() && !f.isCompletedExceptionally()) {
                return then.apply(f.join());
            }
            return Mono.fromCompletionStage(stage).flatMap(then);
        } catch (RuntimeException e) {
            return Mono.error(e);
        }
    }

    /** A call nobody waits for (settle, release): never delays the response. */
    void fireAndForget(Runnable call) {
        if (offload) {
            Schedulers.boundedElastic().schedule(call);
        } else {
            call.run();
        }
    }
}
