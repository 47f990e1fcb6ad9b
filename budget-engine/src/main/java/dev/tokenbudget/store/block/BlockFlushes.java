package dev.tokenbudget.store.block;

import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.ThresholdCrossing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Blocks settled to the store, without a thread waiting: each flush is the store's asynchronous
 * settle, sent under the path's lock (so the store applies it in the path's order, before anything
 * sent for the path after it). Crossings and expired leases that no request's settle reports wait
 * here for the next settle; a flush that fails is sent again by the sweeper until the block's lease
 * runs out (then the store charges it in full).
 */
final class BlockFlushes {

    private static final Logger LOG = LoggerFactory.getLogger(BlockFlushes.class);

    private final BudgetStore store;
    private final ConcurrentLinkedQueue<ThresholdCrossing> crossings = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<LeaseExpiry> expired = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<PathBlock> unflushed = new ConcurrentLinkedQueue<>();
    private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();
    private final AtomicLong flushes = new AtomicLong();

    BlockFlushes(BudgetStore store) {
        this.store = store;
    }

    long count() {
        return flushes.get();
    }

    /**
     * Under the path's lock: settles {@code b} to the store with what its requests used (a release
     * when nothing); the path's other blocks count it as settled from now on. Completes with the
     * store's answer, or null when the store failed (the sweeper tries again).
     */
    CompletableFuture<SettleResult> flush(PathBlock b, Instant now) {
        b.flushed = true;
        b.path.live.remove(b);
        for (PathBlock other : b.path.live) {
            other.absorb(b);
        }
        CompletableFuture<SettleResult> call = settle(command(b, now));
        inFlight.add(call);
        return call.handle((r, e) -> {
            inFlight.remove(call);
            if (e != null) {
                LOG.warn("settling token block {} failed, trying again: {}", b.leaseId, e.toString());
                unflushed.add(b);
                return null;
            }
            flushes.incrementAndGet();
            return r;
        });
    }

    /**
     * Under the path's lock: flushes {@code b} if it is retired and drained; its crossings and the
     * leases the store expired in passing wait for the next settle.
     */
    void ifDrained(PathBlock b, Instant now) {
        if (b.drained()) {
            flush(b, now).thenAccept(this::pend);
        }
    }

    /** Results no request waits for: reported with the next settle. */
    void pend(SettleResult r) {
        if (r != null) {
            crossings.addAll(r.crossings());
            expired.addAll(r.expired());
        }
    }

    void pendExpired(Collection<LeaseExpiry> leases) {
        expired.addAll(leases);
    }

    /** Sends again the flushes that failed, unless the block's lease ran out (the store charged it in full). */
    void retry(Instant now) {
        for (int i = unflushed.size(); i > 0; i--) {
            PathBlock b = unflushed.poll();
            if (b == null || !now.isBefore(b.expiresAt)) {
                continue;
            }
            CompletableFuture<SettleResult> call = settle(command(b, now));
            inFlight.add(call);
            call.whenComplete((r, e) -> {
                inFlight.remove(call);
                if (e != null) {
                    unflushed.add(b);
                } else {
                    flushes.incrementAndGet();
                    pend(r);
                }
            });
        }
    }

    /** Waits (up to {@code millis}) for the flushes sent so far, so that the store shows them. */
    void await(long millis) {
        awaitAll(List.copyOf(inFlight), millis);
    }

    /** Waits up to {@code millis} in all for {@code stages}, whatever they complete with. */
    static void awaitAll(Collection<? extends CompletableFuture<?>> stages, long millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (CompletableFuture<?> f : stages) {
            try {
                f.get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                // failed (a flush is sent again later; a late block given back) or late
            }
        }
    }

    private CompletableFuture<SettleResult> settle(SettleCommand c) {
        try {
            return store.settleAsync(c).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static SettleCommand command(PathBlock b, Instant now) {
        boolean none = b.spentIn == 0 && b.spentOut == 0;
        return new SettleCommand(b.path.treeId, b.leaseId, now, b.spentIn, b.spentOut, none);
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
}
