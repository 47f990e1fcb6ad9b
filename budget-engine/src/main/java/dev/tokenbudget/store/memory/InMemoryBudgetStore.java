package dev.tokenbudget.store.memory;

import dev.tokenbudget.allocation.Percent;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.ledger.Ledger;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.store.AllocationState;
import dev.tokenbudget.store.AllocationUse;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.store.HoldCommand;
import dev.tokenbudget.store.LedgerPage;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.LimitOverride;
import dev.tokenbudget.store.LimitOverrides;
import dev.tokenbudget.store.RebalanceCommand;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.ThresholdCrossing;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The embedded store: one process, zero set-up. Each budget tree is guarded by its own lock, so
 * a reservation over a whole path is atomic and trees never contend with each other; a decision
 * is a handful of array updates under that lock.
 */
public final class InMemoryBudgetStore implements BudgetStore {

    private static final Dimension[] DIMS = Dimension.values();
    /**
     * By expiry, then id: written out rather than {@code Comparator.comparing(..).thenComparing(..)},
     * whose chained key-extractor lambdas every insertion and lookup of the lease set called.
     */
    private static final Comparator<Lease> BY_EXPIRY = (a, b) -> {
        int c = a.expiresAt.compareTo(b.expiresAt);
        return c != 0 ? c : a.id.compareTo(b.id);
    };

    private final ConcurrentHashMap<String, Tree> trees = new ConcurrentHashMap<>();
    private final Map<String, LimitOverride> limits = new LinkedHashMap<>();
    private long limitsVersion;

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.ALLOCATION);
    }

    @Override
    public ReserveResult reserve(ReserveCommand c) {
        Tree tree = trees.computeIfAbsent(c.treeId(), id -> new Tree());
        long[] req = {c.input(), c.output(), c.input() + c.output()};
        synchronized (tree) {
            List<LeaseExpiry> expired = tree.expire(c.treeId(), c.now());
            List<Slot> slots = c.slots();
            WindowState[] states = new WindowState[slots.size()];
            for (int i = 0; i < states.length; i++) {
                states[i] = tree.window(slots.get(i), true);
            }
            PathAdmission admission = new PathAdmission(slots, states, req, c.now());
            PathAdmission.Refusal no = admission.check();
            boolean fitted = false;
            if (c.lower() != null) {
                // the smaller ceiling when the request is degraded with it and the path admits it
                long[] low = {c.input(), c.lower().output(), c.input() + c.lower().output()};
                PathAdmission lower = new PathAdmission(slots, states, low, c.now());
                if (lower.reaches(c.lower().lines()) && (no == null || lower.check() == null)) {
                    fitted = no != null;
                    no = null;
                    admission = lower;
                    req = low;
                }
            }
            if (no != null) {
                Slot s = slots.get(no.slot());
                WindowState w = states[no.slot()];
                return new ReserveResult(false, no.slot(), no.dimension(), snapshot(slots, states, no.slot() + 1),
                        w.isRolling() ? w.bucketHistory(s.window().bucket(), no.dimension().ordinal()) : null,
                        expired, no.cause(), no.room(), List.of(), c.output(), false);
            }
            List<AllocationUse> uses = admission.apply();
            tree.addLease(new Lease(c.leaseId(), c.leaseExpiresAt(), slots, req));
            return new ReserveResult(true, -1, null, snapshot(slots, states, states.length), null, expired, null, 0,
                    uses, req[1], fitted);
        }
    }

    private static List<SlotState> snapshot(List<Slot> slots, WindowState[] states, int filled) {
        List<SlotState> out = new ArrayList<>(slots.size());
        for (int i = 0; i < slots.size(); i++) {
            out.add(i < filled ? states[i].state(slots.get(i).window().bucket()) : SlotState.EMPTY);
        }
        return out;
    }

    @Override
    public SettleResult settle(SettleCommand c) {
        Tree tree = trees.get(c.treeId());
        if (tree == null) {
            return new SettleResult(SettleResult.Status.UNKNOWN_LEASE, List.of(), List.of());
        }
        synchronized (tree) {
            List<LeaseExpiry> expired = tree.expire(c.treeId(), c.now());
            Lease lease = tree.leases.remove(c.leaseId());
            if (lease == null) {
                return new SettleResult(SettleResult.Status.UNKNOWN_LEASE, List.of(), expired);
            }
            tree.byExpiry.remove(lease);
            long[] actual = c.release() ? new long[3] : new long[] {c.input(), c.output(), c.input() + c.output()};
            List<ThresholdCrossing> crossings = tree.apply(lease, actual);
            return new SettleResult(c.release() ? SettleResult.Status.RELEASED : SettleResult.Status.SETTLED,
                    crossings, expired);
        }
    }

    @Override
    public List<SlotState> read(String treeId, List<Slot> slots, Instant now) {
        Tree tree = trees.get(treeId);
        List<SlotState> out = new ArrayList<>(slots.size());
        if (tree == null) {
            slots.forEach(s -> out.add(SlotState.EMPTY));
            return out;
        }
        synchronized (tree) {
            for (Slot s : slots) {
                WindowState w = tree.window(s, false);
                out.add(w == null ? SlotState.EMPTY : w.state(s.window().bucket()));
            }
        }
        return out;
    }

    @Override
    public List<LeaseExpiry> expireLeases(Instant now) {
        List<LeaseExpiry> out = new ArrayList<>();
        for (Map.Entry<String, Tree> e : trees.entrySet()) {
            Tree tree = e.getValue();
            synchronized (tree) {
                out.addAll(tree.expire(e.getKey(), now));
                // past its retention a window goes with its pool, mirrors and holds, as a Redis key does by TTL
                tree.forgetWindowsBefore(now);
            }
        }
        return out;
    }

    @Override
    public RebalanceCommand.Result rebalance(RebalanceCommand c) {
        Tree tree = trees.computeIfAbsent(c.treeId(), id -> new Tree());
        synchronized (tree) {
            WindowState pool = tree.window(c.parent(), true);
            if (pool.rebalanced) {
                return new RebalanceCommand.Result(false, List.of());
            }
            pool.rebalanced = true;
            List<LedgerEntry> moves = new ArrayList<>();
            for (Slot child : c.children()) {
                WindowState w = tree.window(child, true);
                long[] used = w.usedSum(child.window().bucket());
                long[] give = new long[3];
                StringBuilder facts = new StringBuilder();
                for (Dimension d : DIMS) {
                    int k = d.ordinal();
                    long limit = child.limits().get(d);
                    long cap = child.caps().get(d);
                    long committed = used[k] + w.reserved[k];
                    if (limit == Limits.NONE || cap == Limits.NONE
                            || committed >= Percent.of(limit, c.belowPercent())) {
                        continue;
                    }
                    long unused = Math.max(0, cap - w.given[k] - committed);
                    give[k] = Math.min(Percent.of(unused, c.sharePercent()),
                            Math.max(0, Percent.of(limit, c.maxPercent()) - w.given[k]));
                    if (give[k] > 0) {
                        facts.append(RebalanceFacts.of(d, committed, limit, unused));
                    }
                }
                if (give[0] == 0 && give[1] == 0 && give[2] == 0) {
                    continue;
                }
                Map<String, Long> before = new LinkedHashMap<>();
                Map<String, Long> after = new LinkedHashMap<>();
                for (Dimension d : DIMS) {
                    int k = d.ordinal();
                    if (give[k] > 0) {
                        before.put(d.label(), child.limits().get(d) - w.given[k]);
                        after.put(d.label(), child.limits().get(d) - w.given[k] - give[k]);
                    }
                    w.given[k] += give[k];
                    pool.contributions[k] += give[k];
                }
                moves.add(tree.record(c.now(), new LedgerChange(LedgerChange.Kind.REBALANCE, child.budgetId(),
                        c.parent().window().key(), before, after, "rebalance", c.reason() + facts,
                        "rebalance:" + c.parent().key() + ":" + child.budgetId())));
            }
            return new RebalanceCommand.Result(true, moves);
        }
    }

    @Override
    public HoldCommand.Result changeHold(HoldCommand c) {
        Tree tree = trees.computeIfAbsent(c.treeId(), id -> new Tree());
        synchronized (tree) {
            WindowState w = tree.window(c.slot(), true);
            Hold h = c.hold();
            if (c.delete() ? !w.holds.containsKey(h.id()) : w.holds.containsKey(h.id())) {
                return new HoldCommand.Result(false, null);
            }
            Hold recorded = c.delete() ? w.holds.remove(h.id()) : h;
            if (!c.delete()) {
                w.holds.put(h.id(), h);
            }
            Map<String, Long> held = new LinkedHashMap<>();
            for (Dimension d : DIMS) {
                if (recorded.tokens().get(d) > 0) {
                    held.put(d.label(), recorded.tokens().get(d));
                }
            }
            LedgerEntry e = tree.record(c.now(), new LedgerChange(c.delete() ? LedgerChange.Kind.RESERVATION_CANCELLED
                    : LedgerChange.Kind.RESERVATION_CREATED, recorded.forBudget() != null ? recorded.forBudget()
                    : c.slot().budgetId(), c.slot().window().key(), c.delete() ? held : Map.of(),
                    c.delete() ? Map.of() : held, c.actor(), c.reason(),
                    "reservation:" + h.id() + (c.delete() ? ":cancelled" : ":created")));
            return new HoldCommand.Result(true, e);
        }
    }

    @Override
    public AllocationState readAllocation(String treeId, Slot parent, List<Slot> children, Instant now) {
        Tree tree = trees.get(treeId);
        List<TokenCounts> given = new ArrayList<>();
        List<TokenCounts> draws = new ArrayList<>();
        if (tree == null) {
            children.forEach(ch -> {
                given.add(TokenCounts.ZERO);
                draws.add(TokenCounts.ZERO);
            });
            return new AllocationState(TokenCounts.ZERO, TokenCounts.ZERO, false, given, draws, List.of());
        }
        synchronized (tree) {
            for (Slot ch : children) {
                WindowState w = tree.window(ch, false);
                given.add(w == null ? TokenCounts.ZERO : counts(w.given));
                draws.add(w == null ? TokenCounts.ZERO : counts(w.draw));
            }
            WindowState p = tree.window(parent, false);
            if (p == null) {
                return new AllocationState(TokenCounts.ZERO, TokenCounts.ZERO, false, given, draws, List.of());
            }
            List<Hold> holds = p.holds.values().stream().filter(h -> h.activeAt(now)).toList();
            return new AllocationState(counts(p.contributions), counts(p.poolUsed), p.rebalanced, given, draws, holds);
        }
    }

    private static TokenCounts counts(long[] a) {
        return new TokenCounts(a[0], a[1], a[2]);
    }

    @Override
    public LedgerPage ledger(String treeId, long afterSeq, int max) {
        Tree tree = trees.get(treeId);
        if (tree == null) {
            return new LedgerPage(List.of(), 0);
        }
        synchronized (tree) {
            return new LedgerPage(tree.ledger.after(Math.max(0, afterSeq), Math.max(0, max), null),
                    tree.ledger.lastSeq());
        }
    }

    @Override
    public LedgerEntry appendLedger(String treeId, Instant at, LedgerChange change) {
        Tree tree = trees.computeIfAbsent(treeId, id -> new Tree());
        synchronized (tree) {
            return tree.record(at, change);
        }
    }

    @Override
    public synchronized long saveLimits(LimitOverride change) {
        limitsVersion++;
        limits.put(change.budgetId() + "/" + change.window(), new LimitOverride(change.budgetId(), change.window(),
                change.base(), change.limits(), limitsVersion));
        return limitsVersion;
    }

    @Override
    public synchronized LimitOverrides limitOverrides(long knownVersion) {
        if (limitsVersion <= knownVersion) {
            return LimitOverrides.unchanged(limitsVersion);
        }
        return new LimitOverrides(limitsVersion, new ArrayList<>(limits.values()));
    }

    @Override
    public void close() {
        // nothing to release
    }

    /** One reservation in flight. */
    private record Lease(String id, Instant expiresAt, List<Slot> slots, long[] amounts) {
    }

    /** All state of one budget tree; guarded by the tree's own monitor. */
    private static final class Tree {
        /**
         * Window states by budget id, then window key: both strings live as long as the config and
         * the window instance do, with their hashes cached, so a lookup builds no key.
         */
        final HashMap<String, HashMap<String, WindowState>> windows = new HashMap<>();
        /** The tree's ledger: the in-memory one, numbered per tree like the Redis store's. */
        final Ledger ledger = Ledger.inMemory();
        final HashMap<String, Lease> leases = new HashMap<>();
        /** Leases by expiry: the head is the next to expire, and settling removes one in O(log n). */
        final TreeSet<Lease> byExpiry = new TreeSet<>(BY_EXPIRY);

        WindowState window(Slot s, boolean create) {
            HashMap<String, WindowState> ofBudget = windows.get(s.budgetId());
            WindowState w = ofBudget == null ? null : ofBudget.get(s.window().key());
            if (w == null && create) {
                w = new WindowState(s.window().bucketCount(), s.window().expiresAt());
                windows.computeIfAbsent(s.budgetId(), b -> new HashMap<>(4)).put(s.window().key(), w);
            } else if (w != null && s.window().expiresAt().isAfter(w.expiresAt)) {
                w.expiresAt = s.window().expiresAt();
            }
            return w;
        }

        /** Forgets the windows past their retention with nothing reserved, as a Redis key goes by TTL. */
        void forgetWindowsBefore(Instant now) {
            windows.values().removeIf(ofBudget -> {
                ofBudget.values().removeIf(w -> w.expiresAt.isBefore(now) && isIdle(w));
                return ofBudget.isEmpty();
            });
        }

        private static boolean isIdle(WindowState w) {
            return w.reserved[0] == 0 && w.reserved[1] == 0 && w.reserved[2] == 0;
        }

        /** Appends to the tree's ledger, or returns the entry recorded before under the same idempotency key. */
        LedgerEntry record(Instant at, LedgerChange change) {
            return ledger.append(at, change);
        }

        void addLease(Lease lease) {
            leases.put(lease.id, lease);
            byExpiry.add(lease);
        }

        List<LeaseExpiry> expire(String treeId, Instant now) {
            List<LeaseExpiry> out = null;
            Lease head;
            while ((head = byExpiry.isEmpty() ? null : byExpiry.first()) != null && !head.expiresAt.isAfter(now)) {
                byExpiry.pollFirst();
                leases.remove(head.id);
                List<ThresholdCrossing> crossings = apply(head, head.amounts);
                if (out == null) {
                    out = new ArrayList<>(2);
                }
                out.add(new LeaseExpiry(treeId, head.id, new TokenCounts(head.amounts[0], head.amounts[1],
                        head.amounts[2]), head.slots.stream().map(Slot::budgetId).distinct().toList(), crossings));
            }
            return out == null ? List.of() : out;
        }

        /**
         * Moves a lease from reserved to used (at {@code actual}), brings draws, pool usage and
         * mirrors along, and detects crossings.
         */
        List<ThresholdCrossing> apply(Lease lease, long[] actual) {
            List<ThresholdCrossing> crossings = List.of();
            for (Slot s : lease.slots) {
                WindowState w = window(s, true);
                for (int k = 0; k < 3; k++) {
                    w.reserved[k] -= lease.amounts[k];
                }
                w.add(s.window().bucket(), actual);
                if (s.allocation().isLinked()) {
                    PathAdmission.follow(s, w, window(lease.slots.get(s.allocation().parent()), true));
                }
                List<ThresholdCrossing> c = w.crossings(s);
                if (!c.isEmpty()) {
                    if (crossings.isEmpty()) {
                        crossings = new ArrayList<>();
                    }
                    crossings.addAll(c);
                }
            }
            return crossings;
        }
    }
}
