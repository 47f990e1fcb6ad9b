package dev.tokenbudget.store.block;

import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.TokenCounts;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reserving a path's next block without a thread waiting: the store's asynchronous reserve is sent
 * under the path's lock, and its answer put in place (or the block given back) when it comes, on
 * whichever thread completes it; requests that found no block wait on {@link BlockRenewal#done}.
 */
final class BlockRenewals {

    private final BudgetStore store;
    private final BlockSettings settings;
    private final BlockFlushes flushes;
    private final long flushNanos;
    private final String instance = UUID.randomUUID().toString().substring(0, 8);
    private final AtomicLong seq = new AtomicLong();
    private final AtomicLong blocks = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong ahead = new AtomicLong();
    private volatile boolean closed;

    BlockRenewals(BudgetStore store, BlockSettings settings, BlockFlushes flushes) {
        this.store = store;
        this.settings = settings;
        this.flushes = flushes;
        this.flushNanos = settings.flushInterval().toNanos();
    }

    long blocks() {
        return blocks.get();
    }

    long refused() {
        return refused.get();
    }

    long ahead() {
        return ahead.get();
    }

    /**
     * Under {@code p}'s lock: asks the store for the path's next block, sized for requests like
     * {@code c} (which carved the last of the open block's low-water share when {@code early}); null,
     * with the path cooling, when a block would hold fewer than two of them.
     */
    BlockRenewal renew(PathBlocks p, ReserveCommand c, long now, boolean early) {
        if (closed) {
            return null;
        }
        long n = p.size(c, settings.headroomShare(), settings.maxRequests());
        long each = c.input() + c.output();
        n = each == 0 ? n : Math.min(n, TokenCounts.MAX / each);
        if (n < 2) {
            cool(p, now);
            return null;
        }
        Duration ttl = Duration.between(c.now(), c.leaseExpiresAt());
        Instant expires = c.leaseExpiresAt().plus(ttl.isNegative() ? Duration.ZERO : ttl)
                .plus(settings.flushInterval());
        String id = "blk-" + instance + "-" + Long.toString(seq.incrementAndGet(), 36);
        ReserveCommand block = new ReserveCommand(c.treeId(), id, c.now(), expires, c.slots(), n * c.input(),
                n * c.output());
        BlockRenewal r = new BlockRenewal(p, block, c.lower(), new ArrayList<>(p.live), now);
        p.renewing = r;
        if (early) {
            ahead.incrementAndGet();
        }
        CompletionStage<ReserveResult> call;
        try {
            call = store.reserveAsync(block);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        call.whenComplete((res, e) -> arrived(r, res, e));
        return r;
    }

    private void cool(PathBlocks p, long now) {
        p.coolUntilNanos = now + flushNanos;
    }

    /**
     * The store answered {@code r}: the block becomes the path's open one (or its next, while the
     * open one still takes requests), unless it was refused, comes too close to a line (others moved
     * the path meanwhile: given back, and the path goes one by one for {@code flush_interval}), or
     * was voided (given back). Then the requests waiting for it try again.
     */
    private void arrived(BlockRenewal r, ReserveResult res, Throwable error) {
        PathBlocks p = r.path;
        try {
            synchronized (p) {
                if (p.renewing == r) {
                    p.renewing = null;
                }
                if (error == null) {
                    place(p, r, res);
                }
            }
        } finally {
            if (error != null) {
                r.done.completeExceptionally(error);
            } else {
                r.done.complete(null);
            }
        }
    }

    private void place(PathBlocks p, BlockRenewal r, ReserveResult res) {
        flushes.pendExpired(res.expired());
        long now = System.nanoTime();
        if (!res.admitted()) {
            refused.incrementAndGet();
            p.seen = res.states();
            cool(p, now);
            return;
        }
        ReserveCommand c = r.command;
        PathBlock nb = new PathBlock(p, c.leaseId(), TokenCounts.of(c.input(), c.output()), c.leaseExpiresAt(),
                r.reservedAtNanos, res.states(), r.siblings, settings.renewBelow());
        for (PathBlock s : r.siblings) {
            if (s.flushed) {
                nb.absorb(s); // settled to the store after this block was reserved
            }
        }
        boolean clear = p.clear(res.states(), r.lower);
        if (closed || r.voided || !clear) {
            if (!clear) {
                refused.incrementAndGet();
                p.seen = List.copyOf(nb.base);
                cool(p, now);
            }
            nb.open = false;
            flushes.flush(nb, c.now()).thenAccept(flushes::pend);
            return;
        }
        blocks.incrementAndGet();
        p.live.add(nb);
        if (p.open == null) {
            p.open = nb;
        } else {
            p.next = nb;
        }
    }

    /** No more blocks; waits (up to {@code millis}) for those on their way to be placed or given back. */
    void close(Collection<PathBlocks> paths, long millis) {
        closed = true;
        List<CompletableFuture<Void>> waiting = new ArrayList<>();
        for (PathBlocks p : paths) {
            synchronized (p) {
                if (p.renewing != null) {
                    waiting.add(p.renewing.done);
                }
            }
        }
        BlockFlushes.awaitAll(waiting, millis);
    }
}
