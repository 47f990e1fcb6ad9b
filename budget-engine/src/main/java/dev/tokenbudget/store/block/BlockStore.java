package dev.tokenbudget.store.block;

import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.store.AllocationStore;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.StoreIncident;
import dev.tokenbudget.store.StoreUnavailableException;
import dev.tokenbudget.store.ThresholdCrossing;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A shared store (Redis) used in token blocks ({@code store.redis.blocks}, docs/redis.md "Token
 * blocks"): a path's requests are reserved out of a block the store holds as one lease, in memory,
 * while the block keeps every window below its next threshold, degrade line and cap; everything
 * else (refusals, requests near a line, allocation) goes to the store one by one, as without blocks.
 *
 * <p>Decisions equal the store's own: a block is used only where no request carved from it can
 * reach a line, and the states reported are the store's at the block's reservation plus this
 * instance's requests since. Leases the store never saw (the requests carved) are settled,
 * released and expired here; the block is settled to the store with what they used when it is
 * retired (full, {@code flush_interval} old, usage above a reservation, close) and drained.
 *
 * <p>Asynchronous end to end, as the store under it ({@link Capability#ASYNC_DECISIONS} is kept):
 * a request that fits its path's block completes at once; the path's next block is reserved ahead,
 * once less than {@code renew_below} of the open one is left, so requests keep being decided from
 * the open one meanwhile; a request that fits no block waits for the next one on a stage, never on
 * a thread; blocks are settled to the store with its asynchronous settle.
 */
public final class BlockStore implements BudgetStore, AllocationStore.Forwarding {

    /** How often a request waits for a path's next block before it goes to the store alone. */
    private static final int MAX_WAITS = 16;
    /** How long a read waits for this instance's blocks being settled to the store. */
    private static final long READ_WAIT_MILLIS = 5_000;

    private final BudgetStore store;
    private final BlockSettings settings;
    private final BlockLeases leases;
    private final ConcurrentHashMap<PathKey, PathBlocks> paths = new ConcurrentHashMap<>();

    private record PathKey(String treeId, List<Slot> slots) {
    }

    public BlockStore(BudgetStore store, BlockSettings settings) {
        this.store = store;
        this.settings = settings;
        this.leases = new BlockLeases(store, settings, paths.values());
    }

    /** Counts of what the blocks did (for tests and benchmarks). */
    public BlockStats stats() {
        return leases.stats();
    }

    /** The store's own: decisions wait for it only asynchronously (a block's reservation included). */
    @Override
    public Set<Capability> capabilities() {
        return store.capabilities();
    }

    @Override
    public ReserveResult reserve(ReserveCommand c) {
        return await(reserveAsync(c));
    }

    @Override
    public SettleResult settle(SettleCommand c) {
        return await(settleAsync(c));
    }

    /**
     * From the path's block when {@code c} fits, complete at once; else, when the path's next block
     * is on its way (or asked for now), once it is in place, without a thread waiting; else by the
     * store alone. A failed block reservation fails the requests waiting for it.
     */
    @Override
    public CompletableFuture<ReserveResult> reserveAsync(ReserveCommand c) {
        if (!eligible(c)) {
            return stage(() -> store.reserveAsync(c));
        }
        return decide(c, 0);
    }

    private CompletableFuture<ReserveResult> decide(ReserveCommand c, int waits) {
        PathKey key = new PathKey(c.treeId(), c.slots());
        while (true) {
            PathBlocks p = paths.get(key);
            if (p == null) {
                PathBlocks fresh = new PathBlocks(c.treeId(), c.slots());
                p = paths.putIfAbsent(key, fresh);
                if (p == null) {
                    p = fresh;
                    leases.supersede(fresh, c.now());
                }
            }
            Object step;
            synchronized (p) {
                if (p.removed) {
                    continue;
                }
                step = leases.fromBlock(p, c, waits < MAX_WAITS);
            }
            if (step instanceof ReserveResult r) {
                return CompletableFuture.completedFuture(r);
            }
            if (step instanceof CompletableFuture<?> renewal) {
                return renewal.handle((v, e) -> e == null ? decide(c, waits + 1)
                        : CompletableFuture.<ReserveResult>failedFuture(unwrap(e))).thenCompose(f -> f);
            }
            PathBlocks path = p;
            return stage(() -> store.reserveAsync(c)).thenApply(r -> {
                synchronized (path) {
                    path.seen = r.states();
                }
                return r;
            });
        }
    }

    /** Allocation (pools, holds, mirrors) is decided in the store alone. */
    private static boolean eligible(ReserveCommand c) {
        for (Slot s : c.slots()) {
            if (!s.allocation().isNone()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public CompletableFuture<SettleResult> settleAsync(SettleCommand c) {
        CompletableFuture<SettleResult> local = leases.settle(c);
        CompletableFuture<SettleResult> r = local != null ? local : stage(() -> store.settleAsync(c));
        return r.thenApply(this::withPending);
    }

    private SettleResult withPending(SettleResult r) {
        BlockFlushes f = leases.flushes();
        List<ThresholdCrossing> crossings = f.pendingCrossings();
        List<LeaseExpiry> expired = f.pendingExpired();
        if (crossings.isEmpty() && expired.isEmpty()) {
            return r;
        }
        crossings.addAll(0, r.crossings());
        expired.addAll(0, r.expired());
        return new SettleResult(r.status(), crossings, expired);
    }

    private static <T> CompletableFuture<T> stage(Supplier<CompletionStage<T>> call) {
        try {
            return call.get().toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    /** What a stage completed with, or what it failed with, as the blocking methods throw it. */
    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (unwrap(e) instanceof RuntimeException r) {
                throw r;
            }
            throw new StoreUnavailableException("token blocks: " + unwrap(e), unwrap(e));
        }
    }

    @Override
    public List<SlotState> read(String treeId, List<Slot> slots, Instant now) {
        // the store shows the blocks this instance settled, once, before they are left out below
        leases.flushes().await(READ_WAIT_MILLIS);
        List<SlotState> states = new ArrayList<>(store.read(treeId, slots, now));
        for (PathBlocks p : paths.values()) {
            if (!p.treeId.equals(treeId)) {
                continue;
            }
            synchronized (p) {
                for (PathBlock b : p.live) {
                    for (int i = 0; i < slots.size(); i++) {
                        if (charges(p.slots, slots.get(i))) {
                            states.set(i, b.correct(states.get(i)));
                        }
                    }
                }
            }
        }
        return states;
    }

    /** Whether the block's path counts in window {@code s} (reserved tokens are per window, not per bucket). */
    private static boolean charges(List<Slot> path, Slot s) {
        for (Slot p : path) {
            if (p.budgetId().equals(s.budgetId()) && p.window().key().equals(s.window().key())) {
                return true;
            }
        }
        return false;
    }

    @Override
    public List<LeaseExpiry> expireLeases(Instant now) {
        List<LeaseExpiry> out = new ArrayList<>(store.expireLeases(now));
        out.addAll(leases.expire(now));
        return out;
    }

    /** Allocation, the ledger and limit changes are the underlying store's: blocks only decide reservations. */
    @Override
    public AllocationStore allocations() {
        return store;
    }

    @Override
    public void onIncident(Consumer<StoreIncident> listener) {
        store.onIncident(listener);
    }

    @Override
    public String toString() {
        return store + " in blocks of up to " + settings.maxRequests() + " requests";
    }

    /** Settles every block to the store (requests still in flight are charged at their reservation), then closes it. */
    @Override
    public void close() {
        try {
            leases.close();
        } finally {
            store.close();
        }
    }
}
