package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.store.AllocationUse;
import dev.tokenbudget.store.BindingCause;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.TokenCounts;
import dev.tokenbudget.window.WindowRef;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The {@link Decision} for a reservation's outcome: an admission (plain or degraded, with its
 * route and clamped ceiling) or a refusal that waiting cures (with when to retry). A refusal that
 * waiting never cures is {@link NeverFits}'s.
 */
final class Decisions {

    private static final Dimension[] DIMS = Dimension.values();

    private Decisions() {
    }

    /** The refusal of a request of {@code output} ceiling ({@code asked} when no smaller one was tried). */
    static Decision exhausted(ReserveResult res, List<Slot> slots, List<PathPlan.Entry> path, long input,
                               long output, long asked, Instant now) {
        Slot s = slots.get(res.bindingSlot());
        Dimension d = res.bindingDimension();
        SlotState st = res.states().get(res.bindingSlot());
        long cap = s.caps().get(d);
        long request = switch (d) {
            case INPUT -> input;
            case OUTPUT -> output;
            case TOTAL -> input + output;
        };
        long committed = st.committed().get(d);
        long room = res.room() >= 0 ? res.room() : Math.max(0, cap - committed);
        long retry = retryAfter(s.window(), res.bindingBuckets(), committed + request - cap, now);
        long limit = s.limits().get(d);
        BindingCause cause = res.cause() == null ? BindingCause.CAP : res.cause();
        String msg = cause != BindingCause.CAP ? Explanations.refusal(cause, s, slots, d, room, request)
                : request > cap
                ? "request needs " + request + " " + d.label() + " tokens but budget '" + s.budgetId()
                + "' allows at most " + cap + " per " + windowName(s.window())
                : "budget '" + s.budgetId() + "' has " + room + " of " + limit + " "
                + d.label() + " tokens left in " + s.window().key() + "; this request needs " + request;
        if (output < asked && d != Dimension.INPUT) {
            msg += " with its output ceiling clamped from " + asked + " to " + output + " tokens";
        }
        double util = limit > 0 ? (double) committed / limit : 0;
        return new Decision(Decision.Outcome.REJECT, Decision.Reason.BUDGET_EXHAUSTED, s.budgetId(), s.window().key(),
                d, limit, room, util, resetSeconds(s.window(), now), windowSeconds(s.window()), retry, null, msg,
                new Decision.Allocation(cause, null, TokenCounts.ZERO, null,
                        TokenCounts.ZERO));
    }

    /** The decision with where the reservation drew pool tokens or used held tokens. */
    static Decision withUses(Decision d, List<AllocationUse> uses, List<Slot> slots) {
        if (uses.isEmpty()) {
            return d;
        }
        Decision.Allocation a = Explanations.uses(uses, slots);
        String msg = d.message() + Explanations.note(a);
        return new Decision(d.outcome(), d.reason(), d.bindingBudget(), d.bindingWindow(), d.dimension(), d.limit(),
                d.remaining(), d.utilisation(), d.resetSeconds(), d.windowSeconds(), d.retryAfterSeconds(),
                d.directive(), msg, a);
    }

    static String windowName(WindowRef w) {
        int i = w.key().indexOf(':');
        return i < 0 ? w.key() : w.key().substring(0, i);
    }

    /** Seconds until enough usage leaves the window for the request to fit (calendar: the reset). */
    static long retryAfter(WindowRef w, long[] buckets, long mustFree, Instant now) {
        Instant when = w.end();
        if (w.isRolling() && buckets != null) {
            long freed = 0;
            when = null;
            for (int j = 0; j < buckets.length; j++) {
                freed += buckets[j];
                if (freed >= mustFree) {
                    when = w.rollOffTime(w.bucket() - buckets.length + 1 + j);
                    break;
                }
            }
            if (when == null) {
                // reservations in flight hold the room: they settle or expire within a lease
                when = now.plusMillis(w.bucketMillis());
            }
        }
        long ms = Duration.between(now, when).toMillis();
        return Math.max(1, (ms + 999) / 1000);
    }

    static long resetSeconds(WindowRef w, Instant now) {
        return Math.max(0, (Duration.between(now, w.end()).toMillis() + 999) / 1000);
    }

    static long windowSeconds(WindowRef w) {
        return w.isRolling() ? w.bucketMillis() * w.bucketCount() / 1000 : (w.bucketMillis() + 999) / 1000;
    }

    /**
     * The decision for an admitted reservation of {@code reserved} output ceiling; {@code asked} is the
     * ceiling the request asked for (more than {@code reserved} when its degrade spec's smaller ceiling
     * was reserved), {@code refitBy} the slot whose spec refit it after a refusal (-1: none) and
     * {@code fitted} whether the asked ceiling was refused. A degraded request is never sent with more
     * than is reserved for it: the directive's clamp is at most {@code reserved}.
     */
    static Decision admitted(List<SlotState> states, List<Slot> slots, List<PathPlan.Entry> path, BudgetRequest r,
                              long reserved, long asked, int refitBy, boolean fitted, Instant now) {
        int binding = -1;
        Dimension bindingDim = null;
        double maxUtil = -1;
        long remaining = Long.MAX_VALUE;
        int degradeSlot = -1;
        double degradeUtil = -1;
        double[] utils = new double[slots.size()];
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            SlotState st = states.get(i);
            double slotUtil = 0;
            for (Dimension d : DIMS) {
                long limit = s.limits().get(d);
                if (limit == Limits.NONE) {
                    continue;
                }
                long committed = st.used().get(d) + st.reserved().get(d); // SlotState.committed(), unallocated
                double u = (double) committed / limit;
                slotUtil = Math.max(slotUtil, u);
                if (u > maxUtil) {
                    maxUtil = u;
                    binding = i;
                    bindingDim = d;
                }
                remaining = Math.min(remaining, Math.max(0, limit - committed));
            }
            utils[i] = slotUtil;
            Budget b = PathPlan.budgetOf(path, s.budgetId());
            // past a hard stop too: an admitted request may fill it exactly or draw on a pool or a hold
            if (OutputClamp.degrades(b, slotUtil * 100) && slotUtil > degradeUtil) {
                degradeUtil = slotUtil;
                degradeSlot = i;
            }
        }
        if (degradeSlot < 0 && reserved < asked) {
            // admitted only with its degrade spec's smaller ceiling, so it goes degraded by that spec
            degradeSlot = refitBy >= 0 ? refitBy : clampingSlot(slots, path, reserved);
            degradeUtil = utils[degradeSlot];
        }
        if (binding < 0) {
            return new Decision(Decision.Outcome.ALLOW, Decision.Reason.WITHIN_BUDGET, null, null, null, 0,
                    Long.MAX_VALUE, 0, 0, 0, 0, null, "admitted");
        }
        Slot bs = slots.get(binding);
        long limit = bs.limits().get(bindingDim);
        if (degradeSlot < 0) {
            return new Decision(Decision.Outcome.ALLOW, Decision.Reason.WITHIN_BUDGET, bs.budgetId(), bs.window().key(),
                    bindingDim, limit, remaining, maxUtil, resetSeconds(bs.window(), now), windowSeconds(bs.window()),
                    0, null, "admitted");
        }
        Slot ds = slots.get(degradeSlot);
        var spec = PathPlan.budgetOf(path, ds.budgetId()).degrade();
        String model = r.model() == null ? null : spec.models().get(r.model());
        long clamp = spec.maxOutputTokens();
        if (spec.clampToRemaining()) {
            long room = Math.min(reserved, OutputClamp.room(states, slots, reserved));
            clamp = clamp < 0 ? room : Math.min(clamp, room);
        }
        if (clamp >= 0 || reserved < asked) {
            clamp = clamp < 0 ? reserved : Math.min(clamp, reserved);
        }
        String msg = "admitted on the '" + spec.route() + "' route: budget '" + ds.budgetId() + "' is at "
                + Math.round(degradeUtil * 100) + "%";
        if (clamp >= 0 && clamp < asked) {
            long m = spec.maxOutputTokens() >= 0 ? spec.maxOutputTokens() : largestClamp(path);
            msg += "; output ceiling clamped from " + asked + " to " + clamp + " tokens"
                    + (m < 0 || clamp < m ? ", what its budgets had left" : ", the degrade route's max_output_tokens")
                    + (fitted ? " (" + asked + " would not have fitted)" : "");
        }
        RouteDirective directive = new RouteDirective(spec.route(), model, clamp, spec.promptVariants(),
                spec.cacheTtl());
        return new Decision(Decision.Outcome.DEGRADE, Decision.Reason.DEGRADE_THRESHOLD, ds.budgetId(),
                ds.window().key(), bindingDim, limit, remaining, maxUtil, resetSeconds(bs.window(), now),
                windowSeconds(bs.window()), 0, directive, msg);
    }

    /** The slot of the budget whose max_output_tokens is the ceiling reserved (the store chose it), else the first. */
    private static int clampingSlot(List<Slot> slots, List<PathPlan.Entry> path, long reserved) {
        for (int i = 0; i < slots.size(); i++) {
            if (PathPlan.budgetOf(path, slots.get(i).budgetId()).degrade().maxOutputTokens() == reserved) {
                return i;
            }
        }
        return 0;
    }

    /** The largest max_output_tokens of the degrade specs on the path, or -1 when none clamps. */
    private static long largestClamp(List<PathPlan.Entry> path) {
        long m = -1;
        for (PathPlan.Entry e : path) {
            m = Math.max(m, e.budget().degrade().maxOutputTokens());
        }
        return m;
    }
}
