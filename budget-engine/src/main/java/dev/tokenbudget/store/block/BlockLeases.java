package dev.tokenbudget.store.block;

import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.TokenCounts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The blocks' life: carving requests out of a path's block, settling, releasing and expiring those
 * requests in memory, and settling the block to the store once it is retired and drained; the
 * next block's reservation is {@link BlockRenewals}'. A background thread retires blocks older than
 * {@code flush_interval} and settles drained ones, so the store's used tokens lag this instance's
 * by about that much. Nothing here waits for the store: its calls are asynchronous.
 */
final class BlockLeases {

    private static final Logger LOG = LoggerFactory.getLogger(BlockLeases.class);
    /** How long {@link #close} waits for the store to answer what is in flight. */
    private static final long CLOSE_WAIT_MILLIS = 30_000;

    private record Carve(PathBlock block, long in, long out, Instant expiresAt) {
    }

    private final long flushNanos;
    /** A block this old has less than {@code renew_below} of its time left: the next one is asked for. */
    private final long renewAgeNanos;
    private final Collection<PathBlocks> paths;
    private final Map<String, Carve> carves = new ConcurrentHashMap<>();
    private final BlockFlushes flushes;
    private final BlockRenewals renewals;
    private final AtomicLong carved = new AtomicLong();
    private final AtomicLong oneByOne = new AtomicLong();
    private final AtomicLong waited = new AtomicLong();
    private final ScheduledExecutorService sweeper;

    BlockLeases(BudgetStore store, BlockSettings settings, Collection<PathBlocks> paths) {
        this.flushNanos = settings.flushInterval().toNanos();
        this.renewAgeNanos = (long) ((1 - settings.renewBelow()) * flushNanos);
        this.paths = paths;
        this.flushes = new BlockFlushes(store);
        this.renewals = new BlockRenewals(store, settings, flushes);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tokenbudget-blocks");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(1, flushNanos / 2);
        sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.NANOSECONDS);
    }

    BlockStats stats() {
        return new BlockStats(renewals.blocks(), carved.get(), oneByOne.get(), flushes.count(), renewals.refused(),
                renewals.ahead(), waited.get());
    }

    BlockFlushes flushes() {
        return flushes;
    }

    /**
     * Under {@code p}'s lock, without waiting for the store: {@code c} reserved from the path's block
     * (a {@link ReserveResult}); or the stage of the path's next block to wait for, when the path has
     * no block {@code c} fits and {@code mayWait} (a new block is asked for when none is on its way);
     * or null when {@code c} must go to the store alone. The next block is asked for ahead, while
     * this one keeps taking requests, once less than {@code renew_below} of it is left, in tokens or
     * in time ({@code flush_interval}).
     */
    Object fromBlock(PathBlocks p, ReserveCommand c, boolean mayWait) {
        long now = System.nanoTime();
        p.lastUsedNanos = now;
        for (PathBlock b = p.open; b != null; b = p.open) {
            if (b.fits(c, now, flushNanos)) {
                ReserveResult r = carved(b, c);
                boolean low = b.low() || now - b.reservedAtNanos >= renewAgeNanos;
                if (low && p.renewing == null && p.next == null && now >= p.coolUntilNanos) {
                    renewals.renew(p, c, now, true);
                }
                return r;
            }
            retire(p, b);
            flushes.ifDrained(b, c.now());
        }
        if (p.renewing != null && mayWait) {
            waited.incrementAndGet();
            return p.renewing.done;
        }
        if (p.renewing != null || p.seen == null || now < p.coolUntilNanos) {
            oneByOne.incrementAndGet();
            return null;
        }
        BlockRenewal r = renewals.renew(p, c, now, false);
        if (r == null) {
            oneByOne.incrementAndGet();
            return null;
        }
        waited.incrementAndGet();
        return r.done;
    }

    private ReserveResult carved(PathBlock b, ReserveCommand c) {
        List<SlotState> states = b.carve(c.input(), c.output());
        carves.put(c.leaseId(), new Carve(b, c.input(), c.output(), c.leaseExpiresAt()));
        carved.incrementAndGet();
        return new ReserveResult(true, -1, null, states, null, List.of(), null, 0, List.of(), c.output(), false);
    }

    /** Under the path's lock: {@code b} takes no more requests; the next block, if any, takes them. */
    static void retire(PathBlocks p, PathBlock b) {
        b.open = false;
        if (p.open == b) {
            p.open = p.next;
            p.next = null;
        } else if (p.next == b) {
            p.next = null;
        }
    }

    /**
     * Under the path's lock: retires every block of the path, settling the drained ones, and has
     * the block on its way given back. Usage the store does not count yet (beyond a block, on
     * another window) would make the path's other blocks decide what the store would not.
     */
    private void retireAll(PathBlocks p, Instant now) {
        for (PathBlock b = p.open; b != null; b = p.open) {
            retire(p, b); // promotes the next block, retired in turn
        }
        if (p.renewing != null) {
            p.renewing.voided = true;
        }
        for (PathBlock b : List.copyOf(p.live)) {
            flushes.ifDrained(b, now);
        }
    }

    /**
     * A new path of a tree retires the blocks of the same budgets on other windows, buckets or
     * limits (a new day, a rolling bucket, a limit change): they would keep their tokens reserved
     * where no request asks for them any more.
     */
    void supersede(PathBlocks fresh, Instant now) {
        for (PathBlocks p : paths) {
            if (p == fresh || !p.treeId.equals(fresh.treeId) || !p.budgetIds.equals(fresh.budgetIds)) {
                continue;
            }
            synchronized (p) {
                retireAll(p, now);
            }
        }
    }

    /**
     * The settle of a request carved from a block, or null when {@code c}'s lease is the store's.
     * Completes once the block is settled to the store when this was its last request (its
     * crossings are this settle's), else at once.
     */
    CompletableFuture<SettleResult> settle(SettleCommand c) {
        Carve k = carves.remove(c.leaseId());
        if (k == null) {
            return null;
        }
        PathBlock b = k.block();
        CompletableFuture<SettleResult> flushed = null;
        synchronized (b.path) {
            boolean beyond = b.settle(k.in(), k.out(), c.release() ? null : TokenCounts.of(c.input(), c.output()));
            if (beyond) {
                retire(b.path, b);
            }
            if (b.drained()) {
                flushed = flushes.flush(b, c.now());
            }
            if (beyond) {
                retireAll(b.path, c.now());
            }
        }
        SettleResult.Status status = c.release() ? SettleResult.Status.RELEASED : SettleResult.Status.SETTLED;
        if (flushed == null) {
            return CompletableFuture.completedFuture(new SettleResult(status, List.of(), List.of()));
        }
        return flushed.thenApply(r -> r == null ? new SettleResult(status, List.of(), List.of())
                : new SettleResult(status, new ArrayList<>(r.crossings()), new ArrayList<>(r.expired())));
    }

    /** Charges the carved requests whose leases ran out by {@code now} at their reservation. */
    List<LeaseExpiry> expire(Instant now) {
        List<LeaseExpiry> out = new ArrayList<>();
        for (Map.Entry<String, Carve> e : carves.entrySet()) {
            Carve k = e.getValue();
            if (k.expiresAt().isAfter(now) || !carves.remove(e.getKey(), k)) {
                continue;
            }
            PathBlock b = k.block();
            synchronized (b.path) {
                b.settle(k.in(), k.out(), TokenCounts.of(k.in(), k.out()));
                out.add(new LeaseExpiry(b.path.treeId, e.getKey(), TokenCounts.of(k.in(), k.out()), b.path.budgetIds,
                        List.of()));
                flushes.ifDrained(b, now);
            }
        }
        out.addAll(flushes.pendingExpired());
        return out;
    }

    /** Retires blocks past {@code flush_interval}, settles drained ones, drops idle paths, retries failed flushes. */
    void sweep() {
        try {
            long now = System.nanoTime();
            Instant wall = Instant.now();
            for (PathBlocks p : paths) {
                synchronized (p) {
                    // twice: a next block promoted by the first may be as old
                    for (int i = 0; i < 2 && p.open != null && now - p.open.reservedAtNanos >= flushNanos; i++) {
                        retire(p, p.open);
                    }
                    for (PathBlock b : List.copyOf(p.live)) {
                        flushes.ifDrained(b, wall);
                    }
                    if (p.live.isEmpty() && p.renewing == null && now - p.lastUsedNanos > 10 * flushNanos) {
                        p.removed = true;
                        paths.remove(p);
                    }
                }
            }
            flushes.retry(wall);
        } catch (RuntimeException e) {
            LOG.warn("token block sweep failed: {}", e.toString());
        }
    }

    /**
     * Stops the sweeper and settles every block, charging requests still in flight at their
     * reservation; waits for blocks on their way (then settles them too) and for the settles.
     */
    void close() {
        sweeper.shutdownNow();
        renewals.close(paths, CLOSE_WAIT_MILLIS);
        Instant wall = Instant.now();
        for (PathBlocks p : paths) {
            synchronized (p) {
                for (PathBlock b : List.copyOf(p.live)) {
                    b.spentIn += b.carvedIn;
                    b.spentOut += b.carvedOut;
                    b.carvedIn = 0;
                    b.carvedOut = 0;
                    retire(p, b);
                    flushes.flush(b, wall);
                }
            }
        }
        flushes.await(CLOSE_WAIT_MILLIS);
        carves.clear();
    }
}
