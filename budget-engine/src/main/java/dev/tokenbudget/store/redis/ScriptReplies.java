package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.store.AllocationState;
import dev.tokenbudget.store.AllocationUse;
import dev.tokenbudget.store.BindingCause;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.ThresholdCrossing;
import dev.tokenbudget.store.TokenCounts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Turns the scripts' array replies (see the header of each script) into SPI results. */
final class ScriptReplies {

    private static final SettleResult.Status[] STATUS = {SettleResult.Status.SETTLED, SettleResult.Status.RELEASED,
        SettleResult.Status.UNKNOWN_LEASE};

    private ScriptReplies() {
    }

    static ReserveResult reserve(String treeId, List<Object> r) {
        boolean admitted = num(r.get(1)) == 1;
        int slot = (int) num(r.get(2));
        int dim = (int) num(r.get(3));
        List<Object> buckets = list(r.get(5));
        long[] history = null;
        if (!buckets.isEmpty()) {
            history = new long[buckets.size()];
            for (int i = 0; i < history.length; i++) {
                history[i] = num(buckets.get(i));
            }
        }
        int cause = (int) num(r.get(7));
        return new ReserveResult(admitted, slot, dim < 0 ? null : Dimension.values()[dim], states(list(r.get(4))),
                history, expired(treeId, list(r.get(6))), cause < 0 ? null : BindingCause.values()[cause],
                num(r.get(8)), uses(list(r.get(9))), num(r.get(10)), num(r.get(11)) == 1);
    }

    private static List<AllocationUse> uses(List<Object> flat) {
        List<AllocationUse> out = new ArrayList<>(flat.size() / 7);
        for (int i = 0; i + 6 < flat.size(); i += 7) {
            out.add(new AllocationUse((int) num(flat.get(i)), new TokenCounts(num(flat.get(i + 1)),
                    num(flat.get(i + 2)), num(flat.get(i + 3))), new TokenCounts(num(flat.get(i + 4)),
                    num(flat.get(i + 5)), num(flat.get(i + 6)))));
        }
        return out;
    }

    static AllocationState allocation(List<Object> r) {
        TokenCounts contributions = new TokenCounts(num(r.get(0)), num(r.get(1)), num(r.get(2)));
        TokenCounts used = new TokenCounts(num(r.get(3)), num(r.get(4)), num(r.get(5)));
        List<TokenCounts> given = new ArrayList<>();
        List<TokenCounts> draws = new ArrayList<>();
        List<Object> kids = list(r.get(7));
        for (int i = 0; i + 5 < kids.size(); i += 6) {
            given.add(new TokenCounts(num(kids.get(i)), num(kids.get(i + 1)), num(kids.get(i + 2))));
            draws.add(new TokenCounts(num(kids.get(i + 3)), num(kids.get(i + 4)), num(kids.get(i + 5))));
        }
        List<Hold> holds = new ArrayList<>();
        List<Object> hs = list(r.get(8));
        for (int i = 0; i + 5 < hs.size(); i += 6) {
            String fb = string(hs.get(i + 1));
            holds.add(new Hold(string(hs.get(i)), fb.isEmpty() ? null : fb, new TokenCounts(num(hs.get(i + 2)),
                    num(hs.get(i + 3)), num(hs.get(i + 4))), Instant.ofEpochMilli(num(hs.get(i + 5)))));
        }
        return new AllocationState(contributions, used, num(r.get(6)) == 1, given, draws, holds);
    }

    static SettleResult settle(String treeId, List<Object> r) {
        return new SettleResult(STATUS[(int) num(r.get(1))], crossings(list(r.get(2))),
                expired(treeId, list(r.get(3))));
    }

    static List<SlotState> states(List<Object> flat) {
        List<SlotState> out = new ArrayList<>(flat.size() / 6);
        for (int i = 0; i + 5 < flat.size(); i += 6) {
            TokenCounts used = new TokenCounts(num(flat.get(i)), num(flat.get(i + 1)), num(flat.get(i + 2)));
            TokenCounts reserved = new TokenCounts(num(flat.get(i + 3)), num(flat.get(i + 4)), num(flat.get(i + 5)));
            out.add(used.equals(TokenCounts.ZERO) && reserved.equals(TokenCounts.ZERO) ? SlotState.EMPTY
                    : new SlotState(used, reserved));
        }
        return out;
    }

    static List<LeaseExpiry> expired(String treeId, List<Object> records) {
        if (records.isEmpty()) {
            return List.of();
        }
        List<LeaseExpiry> out = new ArrayList<>(records.size());
        for (Object o : records) {
            List<Object> e = list(o);
            List<String> budgets = new ArrayList<>();
            for (Object b : list(e.get(4))) {
                budgets.add((String) b);
            }
            out.add(new LeaseExpiry(treeId, (String) e.get(0), new TokenCounts(num(e.get(1)), num(e.get(2)),
                    num(e.get(3))), List.copyOf(budgets), crossings(list(e.get(5)))));
        }
        return out;
    }

    static List<ThresholdCrossing> crossings(List<Object> records) {
        if (records.isEmpty()) {
            return List.of();
        }
        List<ThresholdCrossing> out = new ArrayList<>(records.size());
        for (Object o : records) {
            List<Object> c = list(o);
            out.add(new ThresholdCrossing((String) c.get(0), (String) c.get(1), (int) num(c.get(2)),
                    new TokenCounts(num(c.get(3)), num(c.get(4)), num(c.get(5))),
                    new Limits(num(c.get(6)), num(c.get(7)), num(c.get(8)))));
        }
        return out;
    }

    static String string(Object o) {
        return o == null ? "" : o.toString();
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return o == null ? List.of() : (List<Object>) o;
    }

    static long num(Object o) {
        return o instanceof Number n ? n.longValue() : Long.parseLong(o.toString());
    }
}
