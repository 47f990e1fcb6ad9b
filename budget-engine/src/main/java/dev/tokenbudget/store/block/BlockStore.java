package dev.tokenbudget.store.block;

import dev.tokenbudget.config.BlockSettings;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.store.AllocationState;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.HoldCommand;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.LedgerPage;
import dev.tokenbudget.store.LimitOverride;
import dev.tokenbudget.store.LimitOverrides;
import dev.tokenbudget.store.RebalanceCommand;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.StoreIncident;
import dev.tokenbudget.store.ThresholdCrossing;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

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
 */
public final class BlockStore implements BudgetStore {

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

    @Override
    public Set<Capability> capabilities() {
        // a block's renewal blocks its caller: decisions are not guaranteed non-blocking
        Set<Capability> c = EnumSet.noneOf(Capability.class);
        c.addAll(store.capabilities());
        c.remove(Capability.ASYNC_DECISIONS);
        return c;
    }

    @Override
    public ReserveResult reserve(ReserveCommand c) {
        if (!eligible(c)) {
            return store.reserve(c);
        }
        PathKey key = new PathKey(c.treeId(), c.slots());
        while (true) {
            PathBlocks p = paths.get(key);
            List<LeaseExpiry> expired = new ArrayList<>(0);
            if (p == null) {
                PathBlocks fresh = new PathBlocks(c.treeId(), c.slots());
                p = paths.putIfAbsent(key, fresh);
                if (p == null) {
                    p = fresh;
                    leases.supersede(fresh, c.now(), expired);
                }
            }
            synchronized (p) {
                if (p.removed) {
                    continue;
                }
                ReserveResult r = leases.fromBlock(p, c, expired);
                if (r != null) {
                    return r;
                }
            }
            ReserveResult r = store.reserve(c);
            synchronized (p) {
                p.seen = r.states();
            }
            return expired.isEmpty() ? r : withExpired(r, expired);
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

    private static ReserveResult withExpired(ReserveResult r, List<LeaseExpiry> more) {
        List<LeaseExpiry> all = new ArrayList<>(r.expired());
        all.addAll(more);
        return new ReserveResult(r.admitted(), r.bindingSlot(), r.bindingDimension(), r.states(), r.bindingBuckets(),
                all, r.cause(), r.room(), r.uses(), r.output(), r.fitted());
    }

    @Override
    public SettleResult settle(SettleCommand c) {
        SettleResult local = leases.settle(c);
        SettleResult r = local != null ? local : store.settle(c);
        List<ThresholdCrossing> crossings = leases.pendingCrossings();
        List<LeaseExpiry> expired = leases.pendingExpired();
        if (crossings.isEmpty() && expired.isEmpty()) {
            return r;
        }
        crossings.addAll(0, r.crossings());
        expired.addAll(0, r.expired());
        return new SettleResult(r.status(), crossings, expired);
    }

    @Override
    public List<SlotState> read(String treeId, List<Slot> slots, Instant now) {
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

    @Override
    public RebalanceCommand.Result rebalance(RebalanceCommand command) {
        return store.rebalance(command);
    }

    @Override
    public HoldCommand.Result changeHold(HoldCommand command) {
        return store.changeHold(command);
    }

    @Override
    public AllocationState readAllocation(String treeId, Slot parent, List<Slot> children, Instant now) {
        return store.readAllocation(treeId, parent, children, now);
    }

    @Override
    public LedgerPage ledger(String treeId, long afterSeq, int max) {
        return store.ledger(treeId, afterSeq, max);
    }

    @Override
    public LedgerEntry appendLedger(String treeId, Instant at, LedgerChange change) {
        return store.appendLedger(treeId, at, change);
    }

    @Override
    public long saveLimits(LimitOverride change) {
        return store.saveLimits(change);
    }

    @Override
    public LimitOverrides limitOverrides(long knownVersion) {
        return store.limitOverrides(knownVersion);
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
