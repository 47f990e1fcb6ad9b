package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.store.LowerCeiling;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotAllocation;

import java.util.List;

/** The fifteen reserve-script arguments of one slot (reserve.lua, SLOT_ARGS). */
final class SlotArgs {

    /** Arguments per slot (SLOT_ARGS in common.lua). */
    static final int COUNT = 15;

    private SlotArgs() {
    }

    /**
     * A slot's arguments; {@code line} is its degrade line of a lower ceiling, or null for none.
     * They depend on the slot and line only (the window's expiry goes on the engine's clock, the
     * script takes the TTL from the command's engine time), so commands on one path share them.
     */
    static void write(String[] a, int at, Slot s, Limits line) {
        a[at] = s.budgetId();
        a[at + 1] = s.window().key();
        a[at + 2] = Long.toString(s.window().bucket());
        a[at + 3] = Integer.toString(s.window().bucketCount());
        // the script turns it into a TTL relative to the engine's time, so that engine and server clocks need not agree
        a[at + 4] = Long.toString(s.window().expiresAt().toEpochMilli());
        limits(a, at + 5, s.caps());
        limits(a, at + 8, s.limits());
        a[at + 11] = thresholds(s.thresholds());
        a[at + 12] = allocation(s.allocation());
        a[at + 13] = holds(s.allocation());
        a[at + 14] = line == null || line.equals(LowerCeiling.NO_LINE) ? ""
                : line.input() + "," + line.output() + "," + line.total();
    }

    /** "" or "parent,overflow,cap i,cap o,cap t,pool,headroom i,headroom o,headroom t" (parent 1-based, 0 none). */
    private static String allocation(SlotAllocation a) {
        if (a.isNone()) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        b.append(a.parent() + 1).append(',').append(a.overflow() ? 1 : 0);
        Limits oc = a.overflowCap();
        b.append(',').append(oc.input()).append(',').append(oc.output()).append(',').append(oc.total());
        b.append(',').append(a.isPool() ? 1 : 0);
        if (a.isPool()) {
            b.append(',').append(a.headroom().input()).append(',').append(a.headroom().output()).append(',')
                    .append(a.headroom().total());
        } else {
            b.append(",0,0,0");
        }
        return b.toString();
    }

    /** "" or "id|for|i|o|t|until ms;..." (for empty when held for nobody). */
    private static String holds(SlotAllocation a) {
        StringBuilder b = new StringBuilder();
        for (Hold h : a.holds()) {
            if (b.length() > 0) {
                b.append(';');
            }
            b.append(h.id()).append('|').append(h.forBudget() == null ? "" : h.forBudget()).append('|')
                    .append(h.tokens().input()).append('|').append(h.tokens().output()).append('|')
                    .append(h.tokens().total()).append('|').append(h.until().toEpochMilli());
        }
        return b.toString();
    }

    private static void limits(String[] a, int at, Limits l) {
        a[at] = Long.toString(l.input());
        a[at + 1] = Long.toString(l.output());
        a[at + 2] = Long.toString(l.total());
    }

    private static String thresholds(List<Integer> percents) {
        StringBuilder b = new StringBuilder();
        for (Integer p : percents) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(p);
        }
        return b.toString();
    }
}
