package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotAllocation;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.window.Period;
import dev.tokenbudget.window.WindowSpec;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bound {@link NeverFits} holds a request to against what the store admits on an empty window,
 * for any limits in any dimensions, a hard stop below 100 %, a rolling window, and a child
 * overflowing into its parent's pool with an overflow cap: a request it calls never fitting is
 * refused (it never answers 400 to a request that could be admitted), and one it does not is
 * admitted there when the pool can give the whole overflow cap (a smaller pool may still refuse it:
 * then 429, since pools grow with rebalances). The Redis store answers every reservation as the
 * in-memory one does (RedisMatchesInMemoryTest).
 */
class NeverFitsProperties {

    private static final Instant T0 = Instant.parse("2026-05-10T10:00:00Z");
    private static final WindowSpec MONTH = WindowSpec.calendar(Period.MONTH, ZoneOffset.UTC);
    private static final WindowSpec WEEK = WindowSpec.rolling(Duration.ofDays(7));

    @Property(tries = 400)
    void neverFitsExactlyWhenAnEmptyWindowRefuses(
            @ForAll @LongRange(min = 0, max = 5000) long inputLimit, @ForAll @LongRange(min = 0, max = 5000)
            long outputLimit, @ForAll @LongRange(min = 0, max = 8000) long totalLimit,
            @ForAll @IntRange(min = 50, max = 100) int hardStop, @ForAll boolean rolling,
            @ForAll @LongRange(min = 1, max = 3000) long overflowCap, @ForAll boolean overflow,
            @ForAll @LongRange(min = 0, max = 9000) long input, @ForAll @LongRange(min = 0, max = 9000) long output,
            @ForAll @LongRange(min = 0, max = 4000) long poolSize, @ForAll boolean atTheBound,
            @ForAll @IntRange(min = -2, max = 2) int offBound) {
        // 0 stands for "not limited in this dimension"; at least one dimension is
        Limits limits = new Limits(inputLimit == 0 ? Limits.NONE : inputLimit,
                outputLimit == 0 ? Limits.NONE : outputLimit, totalLimit == 0 && inputLimit == 0 && outputLimit == 0
                ? 1000 : totalLimit == 0 ? Limits.NONE : totalLimit);
        Limits caps = PathPlan.caps(limits, hardStop);
        if (atTheBound && caps.has(Dimension.TOTAL)) {
            // a total just around the most the window admits, where an off-by-one would show
            long most = caps.total() + (overflow ? overflowCap : 0);
            output = Math.max(0, most - input + offBound);
        }
        Slot own = new Slot("team", (rolling && !overflow ? WEEK : MONTH).at(T0), limits, caps, List.of(100));
        List<Slot> path;
        boolean large = true;
        if (overflow) {
            // a pool of poolSize tokens per dimension, 0 for one larger than any overflow cap
            long size = poolSize == 0 ? 1_000_000 : poolSize;
            Limits all = new Limits(1_000_000, 1_000_000, 1_000_000);
            Slot pool = new Slot("org", MONTH.at(T0), all, all, List.of(100))
                    .withAllocation(SlotAllocation.pool(new TokenCounts(size, size, size), List.of()));
            large = poolSize == 0;
            Limits oc = new Limits(overflowCap, overflowCap, overflowCap);
            path = List.of(own.withAllocation(SlotAllocation.child(1, true, oc)), pool);
        } else {
            path = List.of(own);
        }
        boolean never = false;
        for (Dimension d : Dimension.values()) {
            long most = NeverFits.most(path.get(0), d);
            never |= most != Limits.NONE && NeverFits.need(d, input, output) > most;
        }
        try (InMemoryBudgetStore store = new InMemoryBudgetStore()) {
            boolean admitted = store.reserve(new ReserveCommand("org", "l", T0, T0.plus(Duration.ofHours(1)), path,
                    input, output)).admitted();
            String what = String.format("limits %s, caps %s, overflow %s cap %d pool %d, request %d + %d", limits,
                    caps, overflow, overflowCap, poolSize, input, output);
            if (never) {
                // sound: never says 400 to a request some state would admit
                assertThat(admitted).as(what).isFalse();
            } else if (large) {
                // and exact where the pool can give the whole overflow cap: an empty window admits it
                assertThat(admitted).as(what).isTrue();
            }
        }
    }

    @Property(tries = 200)
    void needNeverOverflows(@ForAll long input, @ForAll long output) {
        long in = Math.abs(input == Long.MIN_VALUE ? 0 : input);
        long out = Math.abs(output == Long.MIN_VALUE ? 0 : output);
        long total = NeverFits.need(Dimension.TOTAL, in, out);
        assertThat(total).isGreaterThanOrEqualTo(Math.max(in, out));
        if (in <= Long.MAX_VALUE - out) {
            assertThat(total).isEqualTo(in + out);
        } else {
            assertThat(total).isEqualTo(Long.MAX_VALUE);
        }
    }
}
