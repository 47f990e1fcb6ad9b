package dev.tokenbudget.scg;

import dev.tokenbudget.store.BudgetStore;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

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

    /** A call whose result the request waits for (identify, admit). */
    <T> Mono<T> call(Supplier<T> call) {
        Mono<T> m = Mono.fromSupplier(call);
        return offload ? m.subscribeOn(Schedulers.boundedElastic()) : m;
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
