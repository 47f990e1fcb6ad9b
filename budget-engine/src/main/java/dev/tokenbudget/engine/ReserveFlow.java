package dev.tokenbudget.engine;

import dev.tokenbudget.budget.FailMode;
import dev.tokenbudget.config.Quantities;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.event.EventBus;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.telemetry.BudgetTelemetry;
import dev.tokenbudget.time.BudgetClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * A request's reservation, blocking ({@link #reserve}) or not ({@link #reserveAsync}): the path is
 * planned, the store asked (again at a degrade spec's smaller ceiling while it refuses), and the
 * answer turned into a ticket; a store failure into the path's fail mode.
 */
final class ReserveFlow {

    private static final Logger LOG = LoggerFactory.getLogger(BudgetEngine.class);
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");

    private final Supplier<PathPlan> plans;
    private final BudgetStore store;
    private final BudgetClock clock;
    private final BudgetTelemetry telemetry;
    private final EventBus events;
    private final Rebalancer rebalancer;
    private final StoreOutcomes outcomes;
    private final String leasePrefix;
    private final AtomicLong leaseCounter = new AtomicLong();
    private final SettleFlow settling;

    ReserveFlow(Supplier<PathPlan> plans, BudgetStore store, BudgetClock clock, BudgetTelemetry telemetry,
                EventBus events, Rebalancer rebalancer, StoreOutcomes outcomes, String leasePrefix,
                SettleFlow settling) {
        this.plans = plans;
        this.store = store;
        this.clock = clock;
        this.telemetry = telemetry;
        this.events = events;
        this.rebalancer = rebalancer;
        this.outcomes = outcomes;
        this.leasePrefix = leasePrefix;
        this.settling = settling;
    }

    /** {@link BudgetEngine#reserve}: waits for the store on the calling thread. */
    Ticket reserve(BudgetRequest r) {
        Object planned = plan(r);
        if (planned instanceof Ticket rejected) {
            return rejected;
        }
        Attempt a = (Attempt) planned;
        ReserveResult res;
        try {
            rebalancer.onPath(a.plan, a.path, a.treeId, a.now);
            res = reserveTimed(a.command(), a.now);
            a.refusedAsAsked = !res.admitted();
            for (int tries = 0; refitCeiling(a, res, tries); tries++) {
                res = reserveTimed(a.command(), a.now);
            }
        } catch (RuntimeException e) {
            return storeFailed(a, e);
        }
        return decided(a, res);
    }

    /** {@link BudgetEngine#reserveAsync}: continues when the store answers, on whichever thread completes it. */
    CompletionStage<Ticket> reserveAsync(BudgetRequest r) {
        Object planned = plan(r);
        if (planned instanceof Ticket rejected) {
            return CompletableFuture.completedFuture(rejected);
        }
        Attempt a = (Attempt) planned;
        CompletionStage<ReserveResult> first;
        try {
            rebalancer.onPath(a.plan, a.path, a.treeId, a.now);
            first = reserveTimedAsync(a.command(), a.now);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(storeFailed(a, e));
        }
        return first.thenCompose(res -> {
            a.refusedAsAsked = !res.admitted();
            return refitAsync(a, res, 0);
        }).handle((res, e) -> e != null ? storeFailed(a, e) : decided(a, res));
    }

    /** The request's reservation, planned (an {@link Attempt}), or a ticket refusing it before any store call. */
    private Object plan(BudgetRequest r) {
        PathPlan p = plans.get();
        VirtualKey key = r.key();
        String feature = r.feature() == null || r.feature().isBlank() ? key.defaultFeature() : r.feature().trim();
        String chainStart = key.budget();
        if (feature != null) {
            if (!key.features().contains(feature)) {
                return rejected(r, Decision.reject(Decision.Reason.FEATURE_FORBIDDEN, key.budget(),
                        "key '" + key.name() + "' may not use feature '" + BudgetEngine.sanitise(feature) + "'"));
            }
            chainStart = feature;
        }
        String user = r.user() == null || r.user().isBlank() ? null : r.user().trim();
        if (user != null && !USER.matcher(user).matches()) {
            return rejected(r, Decision.reject(Decision.Reason.INVALID_REQUEST, key.budget(),
                    "the user id must be 1-128 of A-Z a-z 0-9 . _ @ : + -"));
        }
        Instant now = clock.now();
        // a per-user budget makes the path the request's own; every other path is planned once
        PlannedPath planned = user != null && key.userTemplate() != null ? null : p.planned(key, chainStart);
        Attempt a;
        if (planned != null) {
            PlannedPath.Slots s = planned.at(now);
            a = new Attempt(r, p, planned.entries(), now);
            a.slots = s.slots();
            a.budgetIds = s.budgetIds();
        } else {
            a = new Attempt(r, p, p.path(key, chainStart, user), now);
            a.slots = PathPlan.slots(a.path, now);
        }
        a.input = Math.min(r.inputTokens(), Quantities.MAX_TOKENS / 4);
        a.asked = Math.min(r.outputTokens(), Quantities.MAX_TOKENS / 4);
        a.ceiling = a.asked;
        a.treeId = p.config.budgets().rootOf(key.budget());
        a.leaseId = nextLeaseId();
        a.expiresAt = a.now.plus(p.config.leaseTtl());
        return a;
    }

    /**
     * The prefix and the next count in base 36, written into one buffer: {@code Long.toString(n, 36)}
     * allocated a 65-byte buffer and a copy of it, and the concatenation a third string.
     */
    private String nextLeaseId() {
        long n = leaseCounter.incrementAndGet();
        if (n < 0) {
            return leasePrefix + Long.toString(n, 36);
        }
        int digits = 1;
        for (long v = n; v >= 36; v /= 36) {
            digits++;
        }
        int p = leasePrefix.length();
        byte[] id = new byte[p + digits];
        leasePrefix.getBytes(0, p, id, 0); // the prefix is hex and '-': ASCII
        for (int i = id.length - 1; i >= p; i--, n /= 36) {
            id[i] = (byte) Character.forDigit((int) (n % 36), 36);
        }
        return new String(id, 0, id.length, StandardCharsets.ISO_8859_1);
    }

    /** One reservation's state across the store's answers. */
    private static final class Attempt {
        final BudgetRequest r;
        final PathPlan plan;
        final List<PathPlan.Entry> path;
        final Instant now;
        List<Slot> slots;
        /** The distinct budget ids of the slots when the path was planned before, else null. */
        List<String> budgetIds;
        String treeId;
        String leaseId;
        Instant expiresAt;
        long input;
        long asked;
        long ceiling;
        boolean refusedAsAsked;
        int refitBy = -1;

        Attempt(BudgetRequest r, PathPlan plan, List<PathPlan.Entry> path, Instant now) {
            this.r = r;
            this.plan = plan;
            this.path = path;
            this.now = now;
        }

        /** The reservation of {@code ceiling}, offering the store the degrade spec's smaller one when there is one. */
        ReserveCommand command() {
            return new ReserveCommand(treeId, leaseId, now, expiresAt, slots, input, ceiling,
                    r.ceilingEnforced() ? OutputClamp.lower(path, slots.size(), ceiling) : null);
        }
    }

    /**
     * Refused: whether to try again at the ceiling its refusing budget's degrade spec allows
     * (max_output_tokens, clamp_to_remaining), when the gateway holds the request to it; if so,
     * the attempt now asks for that ceiling.
     */
    private static boolean refitCeiling(Attempt a, ReserveResult res, int tries) {
        if (res.admitted() || !a.r.ceilingEnforced() || tries >= 3 * a.slots.size()) {
            return false;
        }
        long fit = OutputClamp.refit(res, a.slots, a.path, a.input, a.ceiling);
        if (fit < 1 || fit >= a.ceiling) {
            return false;
        }
        a.refitBy = res.bindingSlot();
        a.ceiling = fit;
        return true;
    }

    private CompletionStage<ReserveResult> refitAsync(Attempt a, ReserveResult res, int tries) {
        if (!refitCeiling(a, res, tries)) {
            return CompletableFuture.completedFuture(res);
        }
        return reserveTimedAsync(a.command(), a.now).thenCompose(next -> refitAsync(a, next, tries + 1));
    }

    private Ticket decided(Attempt a, ReserveResult res) {
        BudgetRequest r = a.r;
        Instant now = a.now;
        if (!res.admitted()) {
            Decision never = NeverFits.check(r, a.slots, a.path, res.states(), now);
            return rejected(r, never != null ? never
                    : Decisions.exhausted(res, a.slots, a.path, a.input, a.ceiling, a.asked, now));
        }
        long reserved = res.output();
        boolean fitted = a.refusedAsAsked || res.fitted();
        Decision d = Decisions.withUses(Decisions.admitted(res.states(), a.slots, a.path, r, reserved, a.asked,
                a.refitBy, fitted, now), res.uses(), a.slots);
        telemetry.decision(d);
        if (d.outcome() == Decision.Outcome.DEGRADE) {
            events.publish(() -> new BudgetEvent.RequestDegraded(now, d.bindingBudget(), r.key().name(), r.model(),
                    d.directive().model(), d.directive().route()));
        }
        return new Ticket(a.leaseId, a.treeId, r.key().name(), r.model(), d, a.input, reserved, a.asked, fitted,
                a.expiresAt, a.slots, a.budgetIds, true);
    }

    private ReserveResult reserveTimed(ReserveCommand c, Instant now) {
        long t0 = clock.nanoTime();
        try {
            ReserveResult res = store.reserve(c);
            outcomes.expired(res.expired(), now);
            return res;
        } finally {
            telemetry.storeCall("reserve", clock.nanoTime() - t0);
        }
    }

    private CompletionStage<ReserveResult> reserveTimedAsync(ReserveCommand c, Instant now) {
        long t0 = clock.nanoTime();
        CompletionStage<ReserveResult> call;
        try {
            call = store.reserveAsync(c);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.thenApply(res -> {
            outcomes.expired(res.expired(), now);
            return res;
        }).whenComplete((res, e) -> telemetry.storeCall("reserve", clock.nanoTime() - t0));
    }

    private Ticket rejected(BudgetRequest r, Decision d) {
        telemetry.decision(d);
        events.publish(() -> new BudgetEvent.RequestRejected(clock.now(), d.bindingBudget(), r.key().name(),
                d.reason(), d.retryAfterSeconds()));
        return new Ticket(null, null, r.key().name(), r.model(), d, 0, 0, r.outputTokens(), false, null, List.of(),
                List.of(), false);
    }

    /**
     * The store did not answer the reservation. It may still have made it (it ran the call after
     * the engine stopped waiting, or the reply was lost): a request refused because a budget on
     * its path fails closed has that lease released in the background, and a fail-open request's
     * ticket keeps the lease id ({@link Ticket#holdsLease()}), so that its settle charges what
     * the provider reported if the store holds the lease (docs/redis.md, "When Redis fails").
     */
    private Ticket storeFailed(Attempt a, Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof Error err) {
            throw err;
        }
        BudgetRequest r = a.r;
        String closed = null;
        for (PathPlan.Entry en : a.path) {
            if (en.budget().failMode() == FailMode.CLOSED) {
                closed = en.id();
                break;
            }
        }
        String first = a.path.get(0).id();
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        LOG.warn("budget store failed on reserve for key {} (lease {}): {}", r.key().name(), a.leaseId, message);
        FailMode applied = closed != null ? FailMode.CLOSED : FailMode.OPEN;
        String about = closed != null ? closed : first;
        events.publish(() -> new BudgetEvent.StoreFailure(a.now, about, "reserve", message, applied));
        if (closed != null) {
            settling.releaseLater(a.treeId, a.leaseId, a.now, a.expiresAt);
            return rejected(r, new Decision(Decision.Outcome.REJECT, Decision.Reason.STORE_UNAVAILABLE, closed, null,
                    null, 0, 0, 0, 0, 0, 1, null, "budget store unavailable and budget '" + closed
                    + "' fails closed"));
        }
        Decision d = new Decision(Decision.Outcome.ALLOW, Decision.Reason.STORE_FAIL_OPEN, first, null, null, 0, 0, 0,
                0, 0, 0, null, "budget store unavailable; admitted uncounted (fail open)");
        telemetry.decision(d);
        return new Ticket(a.leaseId, a.treeId, r.key().name(), r.model(), d, a.input, a.ceiling, r.outputTokens(),
                false, a.expiresAt, a.slots, a.budgetIds, false);
    }
}
