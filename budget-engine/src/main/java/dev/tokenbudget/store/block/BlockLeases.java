package dev.tokenbudget.store.block;

import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.StoreUnavailableException;
import dev.tokenbudget.store.ThresholdCrossing;
import dev.tokenbudget.store.TokenCounts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The blocks' life: reserving one (a lease in the store), carving requests out of it, settling,
 * releasing and expiring those requests in memory, and settling the block to the store once it is
 * retired and drained. A background thread retires blocks older than {@code flush_interval} and
 * settles drained ones, so the store's used tokens lag this instance's by about that much.
 */
final class BlockLeases {

    private static final Logger LOG = LoggerFactory.getLogger(BlockLeases.class);

    private record Carve(PathBlock block, long in, long out, Instant expiresAt) {
    }

    private final BudgetStore store;
    private final BlockSettings settings;
    private final long flushNanos;
    private final Collection<PathBlocks> paths;
    private final Map<String, Carve> carves = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<ThresholdCrossing> crossings = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<LeaseExpiry> expired = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<PathBlock> unflushed = new ConcurrentLinkedQueue<>();
    private final String instance = UUID.randomUUID().toString().substring(0, 8);
    private final AtomicLong seq = new AtomicLong();
    private final AtomicLong blocks = new AtomicLong();
    private final AtomicLong carved = new AtomicLong();
    private final AtomicLong oneByOne = new AtomicLong();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final ScheduledExecutorService sweeper;

    BlockLeases(BudgetStore store, BlockSettings settings, Collection<PathBlocks> paths) {
        this.store = store;
        this.settings = settings;
        this.flushNanos = settings.flushInterval().toNanos();
        this.paths = paths;
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tokenbudget-blocks");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(1, flushNanos / 2);
        sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.NANOSECONDS);
    }

    BlockStats stats() {
        return new BlockStats(blocks.get(), carved.get(), oneByOne.get(), flushes.get(), refused.get());
    }

    /**
     * Under {@code p}'s lock: {@code c} reserved from the path's block (reserving a new block when
     * the open one is full or old and the path is clear of its lines), or null when {@code c} must
     * go to the store alone. Leases the store expired in passing are added to {@code expiredOut}.
     */
    ReserveResult fromBlock(PathBlocks p, ReserveCommand c, List<LeaseExpiry> expiredOut) {
        long now = System.nanoTime();
        p.lastUsedNanos = now;
        PathBlock b = p.open;
        if (b != null) {
            if (b.fits(c, now, flushNanos)) {
                return carved(b, c, List.of());
            }
            retire(p, b);
            flushIfDrained(b, c.now(), expiredOut);
        }
        if (p.seen == null || now < p.coolUntilNanos) {
            oneByOne.incrementAndGet();
            return null;
        }
        long n = p.size(c, settings.headroomShare(), settings.maxRequests());
        long each = c.input() + c.output();
        n = each == 0 ? n : Math.min(n, TokenCounts.MAX / each);
        if (n < 2) {
            return cool(p, now);
        }
        Duration ttl = Duration.between(c.now(), c.leaseExpiresAt());
        Instant expires = c.leaseExpiresAt().plus(ttl.isNegative() ? Duration.ZERO : ttl)
                .plus(settings.flushInterval());
        String id = "blk-" + instance + "-" + Long.toString(seq.incrementAndGet(), 36);
        ReserveCommand block = new ReserveCommand(c.treeId(), id, c.now(), expires, c.slots(), n * c.input(),
                n * c.output());
        ReserveResult r = store.reserve(block);
        expiredOut.addAll(r.expired());
        if (!r.admitted()) {
            refused.incrementAndGet();
            p.seen = r.states();
            return cool(p, now);
        }
        PathBlock nb = new PathBlock(p, id, TokenCounts.of(block.input(), block.output()), expires, now, r.states());
        if (!p.clear(r.states(), c.lower())) {
            // too close to a line after all (others moved it): give the block back, decide one by one
            refused.incrementAndGet();
            SettleResult back = store.settle(SettleCommand.release(c.treeId(), id, c.now()));
            expiredOut.addAll(back.expired());
            p.seen = nb.base;
            return cool(p, now);
        }
        blocks.incrementAndGet();
        p.open = nb;
        p.live.add(nb);
        return carved(nb, c, expiredOut);
    }

    private ReserveResult cool(PathBlocks p, long now) {
        p.coolUntilNanos = now + flushNanos;
        oneByOne.incrementAndGet();
        return null;
    }

    private ReserveResult carved(PathBlock b, ReserveCommand c, List<LeaseExpiry> expiredOut) {
        List<SlotState> states = b.carve(c.input(), c.output());
        carves.put(c.leaseId(), new Carve(b, c.input(), c.output(), c.leaseExpiresAt()));
        carved.incrementAndGet();
        return new ReserveResult(true, -1, null, states, null, expiredOut.isEmpty() ? List.of()
                : List.copyOf(expiredOut), null, 0, List.of(), c.output(), false);
    }

    private static void retire(PathBlocks p, PathBlock b) {
        b.open = false;
        if (p.open == b) {
            p.open = null;
        }
    }

    /**
     * A new path of a tree retires the open blocks of the same budgets on other windows, buckets or
     * limits (a new day, a rolling bucket, a limit change): they would keep their tokens reserved
     * where no request asks for them any more.
     */
    void supersede(PathBlocks fresh, Instant now, List<LeaseExpiry> expiredOut) {
        for (PathBlocks p : paths) {
            if (p == fresh || !p.treeId.equals(fresh.treeId) || !p.budgetIds.equals(fresh.budgetIds)) {
                continue;
            }
            synchronized (p) {
                if (p.open != null) {
                    retire(p, p.open);
                }
                for (PathBlock b : List.copyOf(p.live)) {
                    flushIfDrained(b, now, expiredOut);
                }
            }
        }
    }

    /** The settle of a request carved from a block, or null when {@code c}'s lease is the store's. */
    SettleResult settle(SettleCommand c) {
        Carve k = carves.remove(c.leaseId());
        if (k == null) {
            return null;
        }
        PathBlock b = k.block();
        SettleResult flushed = null;
        synchronized (b.path) {
            b.settle(k.in(), k.out(), c.release() ? null : TokenCounts.of(c.input(), c.output()));
            if (b.drained()) {
                flushed = flush(b, c.now());
            }
        }
        SettleResult.Status status = c.release() ? SettleResult.Status.RELEASED : SettleResult.Status.SETTLED;
        return flushed == null ? new SettleResult(status, List.of(), List.of())
                : new SettleResult(status, new ArrayList<>(flushed.crossings()), new ArrayList<>(flushed.expired()));
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
                flushIfDrained(b, now, expired);
            }
        }
        out.addAll(pendingExpired());
        return out;
    }

    /**
     * Under the path's lock: settles a drained block to the store with what its requests used (a
     * release when nothing). A failure leaves it to the sweeper, which tries again until the block's
     * lease runs out (then the store charges it in full); null then.
     */
    private SettleResult flush(PathBlock b, Instant now) {
        b.flushed = true;
        b.path.live.remove(b);
        try {
            SettleResult r = store.settle(flushCommand(b, now));
            flushes.incrementAndGet();
            return r;
        } catch (StoreUnavailableException e) {
            LOG.warn("settling token block {} failed, trying again: {}", b.leaseId, e.toString());
            unflushed.add(b);
            return null;
        }
    }

    /**
     * Under the path's lock: settles {@code b} to the store if it is drained; its threshold
     * crossings wait for the next settle to report them, the leases the store expired in passing go
     * to {@code expiredOut}.
     */
    private void flushIfDrained(PathBlock b, Instant now, Collection<LeaseExpiry> expiredOut) {
        if (b.drained()) {
            SettleResult r = flush(b, now);
            if (r != null) {
                crossings.addAll(r.crossings());
                expiredOut.addAll(r.expired());
            }
        }
    }

    private static SettleCommand flushCommand(PathBlock b, Instant now) {
        boolean none = b.spentIn == 0 && b.spentOut == 0;
        return new SettleCommand(b.path.treeId, b.leaseId, now, b.spentIn, b.spentOut, none);
    }

    private void pend(SettleResult r) {
        if (r != null) {
            crossings.addAll(r.crossings());
            expired.addAll(r.expired());
        }
    }

    /** Crossings found by flushes outside a settle, for the next settle to report. */
    List<ThresholdCrossing> pendingCrossings() {
        return drain(crossings);
    }

    List<LeaseExpiry> pendingExpired() {
        return drain(expired);
    }

    private static <T> List<T> drain(ConcurrentLinkedQueue<T> q) {
        if (q.isEmpty()) {
            return new ArrayList<>(0);
        }
        List<T> out = new ArrayList<>();
        for (T t = q.poll(); t != null; t = q.poll()) {
            out.add(t);
        }
        return out;
    }

    /** Retires blocks past {@code flush_interval}, settles drained ones, drops idle paths, retries failed flushes. */
    void sweep() {
        try {
            long now = System.nanoTime();
            Instant wall = Instant.now();
            for (PathBlocks p : paths) {
                synchronized (p) {
                    if (p.open != null && now - p.open.reservedAtNanos >= flushNanos) {
                        retire(p, p.open);
                    }
                    for (PathBlock b : List.copyOf(p.live)) {
                        flushIfDrained(b, wall, expired);
                    }
                    if (p.live.isEmpty() && now - p.lastUsedNanos > 10 * flushNanos) {
                        p.removed = true;
                        paths.remove(p);
                    }
                }
            }
            for (int i = unflushed.size(); i > 0; i--) {
                PathBlock b = unflushed.poll();
                if (b == null || !wall.isBefore(b.expiresAt)) {
                    continue; // its lease ran out: the store charged it in full
                }
                try {
                    pend(store.settle(flushCommand(b, wall)));
                    flushes.incrementAndGet();
                } catch (StoreUnavailableException e) {
                    unflushed.add(b);
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("token block sweep failed: {}", e.toString());
        }
    }

    /** Stops the sweeper and settles every block, charging requests still in flight at their reservation. */
    void close() {
        sweeper.shutdownNow();
        Instant wall = Instant.now();
        for (PathBlocks p : paths) {
            synchronized (p) {
                for (PathBlock b : List.copyOf(p.live)) {
                    b.spentIn += b.carvedIn;
                    b.spentOut += b.carvedOut;
                    b.carvedIn = 0;
                    b.carvedOut = 0;
                    retire(p, b);
                    flush(b, wall);
                }
            }
        }
        carves.clear();
    }
}
