package dev.tokenbudget.store.memory;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.ThresholdCrossing;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Used and reserved tokens of one window, which thresholds have fired in it, and its part in
 * cross-team allocation (docs/allocation.md): as a child, what it gave to its parent's pool and
 * what it draws from it; as a pool, what it received, what its children draw, their mirrored
 * used + reserved tokens, its run-time holds and whether its rebalance ran. Guarded by the tree.
 */
final class WindowState {
    private static final Dimension[] DIMS = Dimension.values();

    final long[] reserved = new long[3];
    final long[][] buckets;
    final long[] bucketIds;
    Instant expiresAt;
    Limits firedFor;
    final boolean[] fired = new boolean[101];
    /** As a child: allocation given to the parent's pool by rebalances. */
    final long[] given = new long[3];
    /** As an overflowing child: current draw from the parent's pool. */
    final long[] draw = new long[3];
    /** As a pool: tokens rebalances moved in. */
    final long[] contributions = new long[3];
    /** As a pool: the sum of its children's draws. */
    final long[] poolUsed = new long[3];
    /** As a pool: each linked child's used + reserved tokens. */
    final Map<String, long[]> mirrors = new HashMap<>();
    /** Holds made at run time, by id. */
    final Map<String, Hold> holds = new LinkedHashMap<>();
    boolean rebalanced;

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

    long[] mirror(String child) {
        long[] m = mirrors.get(child);
        return m == null ? new long[3] : m;
    }
}
