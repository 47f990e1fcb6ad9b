package dev.tokenbudget.store.memory;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.LimitOverride;
import dev.tokenbudget.store.LimitOverrides;
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
    private static final Comparator<Lease> BY_EXPIRY = Comparator.comparing(Lease::expiresAt).thenComparing(Lease::id);

    private final ConcurrentHashMap<String, Tree> trees = new ConcurrentHashMap<>();
    private final Map<String, LimitOverride> limits = new LinkedHashMap<>();
    private long limitsVersion;

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.noneOf(Capability.class);
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
                Slot s = slots.get(i);
                WindowState w = tree.window(s, true);
                states[i] = w;
                long[] used = w.usedSum(s.window().bucket());
                for (Dimension d : DIMS) {
                    long cap = s.caps().get(d);
                    int k = d.ordinal();
                    if (cap != Limits.NONE && used[k] + w.reserved[k] + req[k] > cap) {
                        return new ReserveResult(false, i, d, snapshot(slots, states, i + 1),
                                w.isRolling() ? w.bucketHistory(s.window().bucket(), k) : null, expired);
                    }
                }
            }
            for (WindowState w : states) {
                for (int k = 0; k < 3; k++) {
                    w.reserved[k] += req[k];
                }
            }
            tree.addLease(new Lease(c.leaseId(), c.leaseExpiresAt(), slots, req));
            return new ReserveResult(true, -1, null, snapshot(slots, states, states.length), null, expired);
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
                tree.windows.values().removeIf(w -> w.expiresAt.isBefore(now) && isIdle(w));
            }
        }
        return out;
    }

    private static boolean isIdle(WindowState w) {
        return w.reserved[0] == 0 && w.reserved[1] == 0 && w.reserved[2] == 0;
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
        final HashMap<String, WindowState> windows = new HashMap<>();
        final HashMap<String, Lease> leases = new HashMap<>();
        /** Leases by expiry: the head is the next to expire, and settling removes one in O(log n). */
        final TreeSet<Lease> byExpiry = new TreeSet<>(BY_EXPIRY);

        WindowState window(Slot s, boolean create) {
            String key = s.key();
            WindowState w = windows.get(key);
            if (w == null && create) {
                w = new WindowState(s.window().bucketCount(), s.window().expiresAt());
                windows.put(key, w);
            } else if (w != null && s.window().expiresAt().isAfter(w.expiresAt)) {
                w.expiresAt = s.window().expiresAt();
            }
            return w;
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

        /** Moves a lease from reserved to used (at {@code actual}) and detects crossings. */
        List<ThresholdCrossing> apply(Lease lease, long[] actual) {
            List<ThresholdCrossing> crossings = List.of();
            for (Slot s : lease.slots) {
                WindowState w = window(s, true);
                for (int k = 0; k < 3; k++) {
                    w.reserved[k] -= lease.amounts[k];
                }
                w.add(s.window().bucket(), actual);
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

    /** Used and reserved tokens of one window, and which thresholds have fired in it. */
    private static final class WindowState {
        final long[] reserved = new long[3];
        final long[][] buckets;
        final long[] bucketIds;
        Instant expiresAt;
        Limits firedFor;
        final boolean[] fired = new boolean[101];

        WindowState(int bucketCount, Instant expiresAt) {
            this.buckets = new long[bucketCount][3];
            this.bucketIds = new long[bucketCount];
            java.util.Arrays.fill(bucketIds, Long.MIN_VALUE);
            this.expiresAt = expiresAt;
        }

        boolean isRolling() {
            return buckets.length > 1;
        }

        void add(long bucket, long[] amounts) {
            int i = (int) Math.floorMod(bucket, (long) buckets.length);
            if (bucketIds[i] != bucket) {
                if (bucketIds[i] > bucket) {
                    // usage for a bucket that already rolled off the ring: it is outside the window
                    return;
                }
                bucketIds[i] = bucket;
                java.util.Arrays.fill(buckets[i], 0);
            }
            for (int k = 0; k < 3; k++) {
                // saturates at 2^53-1 as the Redis scripts do: lies about usage can exhaust a budget, never wrap it
                buckets[i][k] = Math.min(TokenCounts.MAX, buckets[i][k] + amounts[k]);
            }
        }

        /** Used per dimension as of bucket {@code current}; read-only (a calendar window returns its own counts). */
        long[] usedSum(long current) {
            if (buckets.length == 1) {
                return buckets[0];
            }
            long[] sum = new long[3];
            long oldest = current - buckets.length + 1;
            for (int i = 0; i < buckets.length; i++) {
                if (bucketIds[i] >= oldest && bucketIds[i] <= current || buckets.length == 1) {
                    for (int k = 0; k < 3; k++) {
                        sum[k] += buckets[i][k];
                    }
                }
            }
            return sum;
        }

        long[] bucketHistory(long current, int dim) {
            long[] out = new long[buckets.length];
            for (int j = 0; j < buckets.length; j++) {
                long b = current - buckets.length + 1 + j;
                int i = (int) Math.floorMod(b, (long) buckets.length);
                out[j] = bucketIds[i] == b ? buckets[i][dim] : 0;
            }
            return out;
        }

        SlotState state(long current) {
            long[] u = usedSum(current);
            return new SlotState(new TokenCounts(u[0], u[1], u[2]),
                    new TokenCounts(reserved[0], reserved[1], reserved[2]));
        }

        List<ThresholdCrossing> crossings(Slot s) {
            if (!s.limits().equals(firedFor)) {
                java.util.Arrays.fill(fired, false);
                firedFor = s.limits();
            }
            long[] used = usedSum(s.window().bucket());
            double pct = 0;
            for (Dimension d : DIMS) {
                long limit = s.limits().get(d);
                if (limit != Limits.NONE) {
                    pct = Math.max(pct, used[d.ordinal()] * 100.0 / limit);
                }
            }
            List<ThresholdCrossing> out = List.of();
            for (int p : s.thresholds()) {
                if (pct >= p && !fired[p]) {
                    fired[p] = true;
                    if (out.isEmpty()) {
                        out = new ArrayList<>(2);
                    }
                    out.add(new ThresholdCrossing(s.budgetId(), s.window().key(), p,
                            new TokenCounts(used[0], used[1], used[2]), s.limits()));
                } else if (pct < p && fired[p] && isRolling()) {
                    fired[p] = false; // a rolling window re-arms once usage rolls off below the threshold
                }
            }
            return out;
        }
    }
}
