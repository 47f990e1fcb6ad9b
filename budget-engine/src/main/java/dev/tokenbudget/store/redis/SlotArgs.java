package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.Slot;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** The twelve reserve-script arguments of one slot (reserve.lua, SLOT_ARGS). */
final class SlotArgs {

    /** Arguments per slot (SLOT_ARGS in common.lua). */
    static final int COUNT = 12;

    private SlotArgs() {
    }

    static void write(String[] a, int at, Slot s, Instant now) {
        a[at] = s.budgetId();
        a[at + 1] = s.window().key();
        a[at + 2] = Long.toString(s.window().bucket());
        a[at + 3] = Integer.toString(s.window().bucketCount());
        // a TTL relative to the engine's now, so that engine and server clocks need not agree
        a[at + 4] = Long.toString(Math.max(1, Duration.between(now, s.window().expiresAt()).toMillis()));
        limits(a, at + 5, s.caps());
        limits(a, at + 8, s.limits());
        a[at + 11] = thresholds(s.thresholds());
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
