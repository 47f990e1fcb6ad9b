package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.FailMode;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.config.Quantities;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.event.BudgetEventListener;
import dev.tokenbudget.event.EventBus;
import dev.tokenbudget.forecast.UsageHistory;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.ledger.Ledger;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.ledger.StoreLedger;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.BudgetStores;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.StoreUnavailableException;
import dev.tokenbudget.store.ThresholdCrossing;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.telemetry.BudgetTelemetry;
import dev.tokenbudget.time.BudgetClock;
import dev.tokenbudget.usage.TokenUsage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The budget engine: the one API every gateway adapter calls.
 *
 * <pre>
 *   VirtualKey key = engine.authenticate(secret).orElseThrow(...);      // 401 when empty
 *   Ticket t = engine.reserve(new BudgetRequest(key, feature, user, model, inputEstimate, maxOutput));
 *   switch (t.decision().outcome()) { ALLOW, DEGRADE (apply t.decision().directive()), REJECT }
 *   ... when the response completes:  engine.settle(t, usage)  |  engine.settleUnknown(t)  |  engine.release(t)
 * </pre>
 *
 * A reservation covers every window of every budget on the request's path atomically; a ticket
 * settles at most once; a lease not settled in time is charged at its reserved amount. Thread-safe.
 */
public final class BudgetEngine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BudgetEngine.class);
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");

    private final BudgetStore store;
    private final BudgetClock clock;
    private final BudgetTelemetry telemetry;
    private final UsageHistory history;
    private final EventBus events = new EventBus();
    private final String leasePrefix;
    private final AtomicLong leaseCounter = new AtomicLong();
    private volatile PathPlan plan;
    private final Rebalancer rebalancer;
    private final Reservations reservations;
    private final Ledger ledger;
    private final RuntimeLimits runtimeLimits;

    private BudgetEngine(EngineConfig config, BudgetStore store, BudgetClock clock, BudgetTelemetry telemetry,
                         UsageHistory history) {
        this.history = Objects.requireNonNull(history, "history");
        this.plan = new PathPlan(Objects.requireNonNull(config, "config"));
        this.store = Objects.requireNonNull(store, "store");
        if (!plan.allocation.isEmpty() && !store.capabilities().contains(BudgetStore.Capability.ALLOCATION)) {
            throw new IllegalArgumentException("the config allocates budgets to their children (allocation, overflow)"
                    + " but the store " + store + " keeps no allocation state");
        }
        this.rebalancer = new Rebalancer(store, this::allocationChanged);
        this.ledger = !store.capabilities().contains(BudgetStore.Capability.ALLOCATION) ? Ledger.inMemory()
                : new StoreLedger(store, plan.config.budgets().budgets().stream().filter(b -> b.parent().isEmpty())
                .map(Budget::id).toList(), id -> plan.config.budgets().contains(id)
                ? plan.config.budgets().rootOf(id) : null);
        this.reservations = new Reservations(() -> plan, store, Objects.requireNonNull(clock, "clock"),
                this::allocationChanged);
        this.clock = Objects.requireNonNull(clock, "clock");
        this.telemetry = Objects.requireNonNull(telemetry, "telemetry");
        if (telemetry != BudgetTelemetry.noop()) {
            // only a real telemetry listens: with none, events stay unbuilt on the hot path
            events.subscribe(telemetry::event);
            telemetry.observeUtilisation(this::status);
        }
        byte[] b = new byte[6];
        new SecureRandom().nextBytes(b);
        this.leasePrefix = HexFormat.of().formatHex(b) + "-";
        store.onIncident(i -> events.publish(() -> new BudgetEvent.StoreFailure(clock.now(), i.treeId(),
                i.operation(), i.message(), FailMode.OPEN)));
        this.runtimeLimits = new RuntimeLimits(config, store, () -> plan, p -> plan = p, clock, events);
        try {
            // limits changed at run time by other engines (or before a restart) hold here too
            syncLimits();
        } catch (StoreUnavailableException e) {
            LOG.warn("could not read run-time limit changes from the store yet; the next syncLimits() will: {}",
                    e.getMessage());
        }
    }

    /** An engine on the embedded in-memory store and the system clock. */
    public static BudgetEngine inMemory(EngineConfig config) {
        return builder(config).store(new InMemoryBudgetStore()).build();
    }

    public static Builder builder(EngineConfig config) {
        return new Builder(config);
    }

    /**
     * Builder: the store defaults to the one the config names (in-memory unless {@code store: redis}),
     * the clock to the system clock.
     */
    public static final class Builder {
        private final EngineConfig config;
        private BudgetStore store;
        private BudgetClock clock = BudgetClock.system();
        private BudgetTelemetry telemetry = BudgetTelemetry.noop();
        private UsageHistory history;

        private Builder(EngineConfig config) {
            this.config = config;
        }

        public Builder store(BudgetStore s) {
            this.store = s;
            return this;
        }

        public Builder clock(BudgetClock c) {
            this.clock = c;
            return this;
        }

        /** OpenTelemetry instruments; {@link BudgetTelemetry#noop()} by default. */
        public Builder telemetry(BudgetTelemetry t) {
            this.telemetry = t;
            return this;
        }

        /** Where settled usage is recorded for forecasts; by default next to the config's store. */
        public Builder history(UsageHistory h) {
            this.history = h;
            return this;
        }

        public BudgetEngine build() {
            UsageHistory h = history != null ? history : BudgetStores.history(config.store());
            return new BudgetEngine(config, store != null ? store : BudgetStores.open(config.store()), clock,
                    telemetry, h);
        }
    }

    public EngineConfig config() {
        return plan.config;
    }

    public BudgetStore store() {
        return store;
    }

    public BudgetClock clock() {
        return clock;
    }

    public void subscribe(BudgetEventListener listener) {
        events.subscribe(listener);
    }

    public void unsubscribe(BudgetEventListener listener) {
        events.unsubscribe(listener);
    }

    /** The key whose SHA-256 matches {@code secret}, or empty (answer 401). */
    public Optional<VirtualKey> authenticate(String secret) {
        if (secret == null || secret.isEmpty() || secret.length() > 512) {
            return Optional.empty();
        }
        return Optional.ofNullable(plan.keyByHash(KeyHash.of(secret)));
    }

    /** Admits, degrades or rejects a request, reserving its tokens on every budget of its path. */
    public Ticket reserve(BudgetRequest r) {
        return join(reserveAsync(r));
    }

    /**
     * {@link #reserve} without blocking on the store: the path is planned on the calling thread and
     * the stage completes with the ticket when the store has answered (at once on the in-memory
     * store; from the store's I/O thread on Redis, where dependent stages must not block). A store
     * failure is answered by the path's fail mode, as by {@link #reserve}; the stage fails only for
     * a bug.
     */
    public CompletionStage<Ticket> reserveAsync(BudgetRequest r) {
        PathPlan p = plan;
        VirtualKey key = r.key();
        String feature = r.feature() == null || r.feature().isBlank() ? key.defaultFeature() : r.feature().trim();
        String chainStart = key.budget();
        if (feature != null) {
            if (!key.features().contains(feature)) {
                return CompletableFuture.completedFuture(rejected(r, Decision.reject(
                        Decision.Reason.FEATURE_FORBIDDEN, key.budget(), "key '" + key.name()
                                + "' may not use feature '" + sanitise(feature) + "'")));
            }
            chainStart = feature;
        }
        String user = r.user() == null || r.user().isBlank() ? null : r.user().trim();
        if (user != null && !USER.matcher(user).matches()) {
            return CompletableFuture.completedFuture(rejected(r, Decision.reject(Decision.Reason.INVALID_REQUEST,
                    key.budget(), "the user id must be 1-128 of A-Z a-z 0-9 . _ @ : + -")));
        }
        Attempt a = new Attempt(r, p.path(key, chainStart, user), clock.now());
        a.input = Math.min(r.inputTokens(), Quantities.MAX_TOKENS / 4);
        a.asked = Math.min(r.outputTokens(), Quantities.MAX_TOKENS / 4);
        a.ceiling = a.asked;
        a.slots = PathPlan.slots(a.path, a.now);
        a.treeId = p.config.budgets().rootOf(key.budget());
        a.leaseId = leasePrefix + Long.toString(leaseCounter.incrementAndGet(), 36);
        a.expiresAt = a.now.plus(p.config.leaseTtl());
        CompletionStage<ReserveResult> first;
        try {
            rebalancer.onPath(p, a.path, a.treeId, a.now);
            first = reserveTimed(a.command(), a.now);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(storeFailed(r, a.path, e, a.now));
        }
        return first.thenCompose(res -> {
            a.refusedAsAsked = !res.admitted();
            return refit(a, res, 0);
        }).handle((res, e) -> e != null ? storeFailed(r, a.path, e, a.now) : decided(a, res));
    }

    /** One reservation's state across the store's answers. */
    private static final class Attempt {
        final BudgetRequest r;
        final List<PathPlan.Entry> path;
        final Instant now;
        List<Slot> slots;
        String treeId;
        String leaseId;
        Instant expiresAt;
        long input;
        long asked;
        long ceiling;
        boolean refusedAsAsked;
        int refitBy = -1;

        Attempt(BudgetRequest r, List<PathPlan.Entry> path, Instant now) {
            this.r = r;
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
     * Refused: tries the ceiling its refusing budget's degrade spec allows (max_output_tokens,
     * clamp_to_remaining), when the gateway holds the request to it.
     */
    private CompletionStage<ReserveResult> refit(Attempt a, ReserveResult res, int tries) {
        if (res.admitted() || !a.r.ceilingEnforced() || tries >= 3 * a.slots.size()) {
            return CompletableFuture.completedFuture(res);
        }
        long fit = OutputClamp.refit(res, a.slots, a.path, a.input, a.ceiling);
        if (fit < 1 || fit >= a.ceiling) {
            return CompletableFuture.completedFuture(res);
        }
        a.refitBy = res.bindingSlot();
        a.ceiling = fit;
        return reserveTimed(a.command(), a.now).thenCompose(next -> refit(a, next, tries + 1));
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
                a.expiresAt, a.slots, true);
    }

    private CompletionStage<ReserveResult> reserveTimed(ReserveCommand c, Instant now) {
        long t0 = clock.nanoTime();
        CompletionStage<ReserveResult> call;
        try {
            call = store.reserveAsync(c);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.thenApply(res -> {
            publishExpired(res.expired(), now);
            return res;
        }).whenComplete((res, e) -> telemetry.storeCall("reserve", clock.nanoTime() - t0));
    }

    /** The result of a stage that fails only for a bug, rethrown as it was thrown. */
    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    private Ticket rejected(BudgetRequest r, Decision d) {
        telemetry.decision(d);
        events.publish(() -> new BudgetEvent.RequestRejected(clock.now(), d.bindingBudget(), r.key().name(),
                d.reason(), d.retryAfterSeconds()));
        return new Ticket(null, null, r.key().name(), r.model(), d, 0, 0, r.outputTokens(), false, null, List.of(),
                false);
    }

    private Ticket storeFailed(BudgetRequest r, List<PathPlan.Entry> path, Throwable error, Instant now) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof Error err) {
            throw err;
        }
        String closed = null;
        for (PathPlan.Entry en : path) {
            if (en.budget().failMode() == FailMode.CLOSED) {
                closed = en.id();
                break;
            }
        }
        String first = path.get(0).id();
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        LOG.warn("budget store failed on reserve for key {}: {}", r.key().name(), message);
        FailMode applied = closed != null ? FailMode.CLOSED : FailMode.OPEN;
        String about = closed != null ? closed : first;
        events.publish(() -> new BudgetEvent.StoreFailure(now, about, "reserve", message, applied));
        if (closed != null) {
            return rejected(r, new Decision(Decision.Outcome.REJECT, Decision.Reason.STORE_UNAVAILABLE, closed, null,
                    null, 0, 0, 0, 0, 0, 1, null, "budget store unavailable and budget '" + closed
                    + "' fails closed"));
        }
        Decision d = new Decision(Decision.Outcome.ALLOW, Decision.Reason.STORE_FAIL_OPEN, first, null, null, 0, 0, 0,
                0, 0, 0, null, "budget store unavailable; admitted uncounted (fail open)");
        telemetry.decision(d);
        return new Ticket(null, null, r.key().name(), r.model(), d, r.inputTokens(), r.outputTokens(),
                r.outputTokens(), false, null, List.of(), false);
    }

    /** Settles a ticket with the usage the provider reported. A second call is a no-op. */
    public SettleResult.Status settle(Ticket t, TokenUsage usage) {
        return join(settleAsync(t, usage));
    }

    /**
     * Settles a ticket whose response carried no usage, at its reservation (the estimate: input
     * estimate plus output ceiling), and says so in an event.
     */
    public SettleResult.Status settleUnknown(Ticket t) {
        return join(settleUnknownAsync(t));
    }

    /** Releases a ticket whose request used nothing (upstream refused it, client went away first). */
    public SettleResult.Status release(Ticket t) {
        return join(releaseAsync(t));
    }

    /**
     * {@link #settle} without blocking on the store: completes when the store has answered (see
     * {@link #reserveAsync} on which thread). A store failure completes it with
     * {@link SettleResult.Status#UNKNOWN_LEASE}, as {@link #settle} returns it.
     */
    public CompletionStage<SettleResult.Status> settleAsync(Ticket t, TokenUsage usage) {
        Objects.requireNonNull(usage, "usage");
        return finish(t, usage.inputTokens(), usage.outputTokens(), false);
    }

    /** {@link #settleUnknown} without blocking on the store, as {@link #settleAsync}. */
    public CompletionStage<SettleResult.Status> settleUnknownAsync(Ticket t) {
        return finish(t, t.reservedInput(), t.reservedOutput(), false).thenApply(s -> {
            if (s == SettleResult.Status.SETTLED) {
                events.publish(() -> new BudgetEvent.UsageUnknown(clock.now(), t.budgetIds().get(0), t.keyName(),
                        t.reservedInput(), t.reservedOutput()));
            }
            return s;
        });
    }

    /** {@link #release} without blocking on the store, as {@link #settleAsync}. */
    public CompletionStage<SettleResult.Status> releaseAsync(Ticket t) {
        return finish(t, 0, 0, true);
    }

    private CompletionStage<SettleResult.Status> finish(Ticket t, long input, long output, boolean release) {
        if (!t.accounted() || !t.close()) {
            return CompletableFuture.completedFuture(SettleResult.Status.UNKNOWN_LEASE);
        }
        Instant now = clock.now();
        long t0 = clock.nanoTime();
        CompletionStage<SettleResult> call;
        try {
            call = store.settleAsync(new SettleCommand(t.treeId(), t.leaseId(), now, input, output, release));
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.handle((res, error) -> {
            if (error != null) {
                Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause()
                        : error;
                String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                LOG.warn("budget store failed to settle lease {}; it will be charged at its reservation when it "
                        + "expires: {}", t.leaseId(), message);
                events.publish(() -> new BudgetEvent.StoreFailure(now, t.budgetIds().get(0), release ? "release"
                        : "settle", message, FailMode.OPEN));
                return SettleResult.Status.UNKNOWN_LEASE;
            }
            telemetry.storeCall(release ? "release" : "settle", clock.nanoTime() - t0);
            if (res.status() == SettleResult.Status.SETTLED) {
                telemetry.charged(t.budgetIds(), input, output);
                recordHistory(t.budgetIds(), now, input, output);
            }
            publishCrossings(res.crossings(), now);
            publishExpired(res.expired(), now);
            return res.status();
        });
    }

    /** Settles every expired lease now (hosts call this periodically; calls also do it in passing). */
    public int expireLeases() {
        Instant now = clock.now();
        List<LeaseExpiry> expired;
        try {
            expired = store.expireLeases(now);
        } catch (StoreUnavailableException e) {
            // a sweep is housekeeping: the next one (or the next call on the tree) catches up
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            LOG.warn("budget store unavailable for the lease sweep: {}", message);
            events.publish(() -> new BudgetEvent.StoreFailure(now, "*", "expire-leases", message, FailMode.OPEN));
            return 0;
        }
        publishExpired(expired, now);
        rebalancer.all(plan, now);
        return expired.size();
    }

    /**
     * Runs the auto-rebalances that are due and not yet run (each once per window across every
     * engine on the store); reservations and {@link #expireLeases} also do it in passing. Returns
     * the moves this call made.
     */
    public List<LedgerEntry> rebalance() {
        return rebalancer.all(plan, clock.now());
    }

    /** Whether some budget of the config allots its windows to its children (docs/allocation.md). */
    public boolean allocates() {
        return !plan.allocation.isEmpty();
    }

    /** Holds made at run time: create, delete and list them (docs/allocation.md). */
    public Reservations reservations() {
        return reservations;
    }

    /** The overflow pools of a budget that allocates (one per calendar window), or empty for an unknown budget. */
    public Optional<AllocationStatus> allocation(String budgetId) {
        return AllocationView.status(plan, store, budgetId, clock.now());
    }

    /**
     * The ledger of changes to this config's budgets: rebalances and holds (recorded by the store
     * with the move itself) and what hosts append (limit changes). Kept by the store, so shared by
     * every engine on it; on a store without {@code ALLOCATION}, a ledger in this engine's memory.
     */
    public Ledger ledger() {
        return ledger;
    }

    private void allocationChanged(LedgerEntry e) {
        events.publish(() -> new BudgetEvent.AllocationChanged(e.at(), e.change().budgetId(), e));
    }

    private void publishExpired(List<LeaseExpiry> expired, Instant now) {
        for (LeaseExpiry e : expired) {
            LOG.info("lease {} expired unsettled; charged at its reservation {}", e.leaseId(), e.charged());
            telemetry.charged(e.budgetIds(), e.charged().input(), e.charged().output());
            recordHistory(e.budgetIds(), now, e.charged().input(), e.charged().output());
            events.publish(() -> new BudgetEvent.LeaseExpired(now, e.budgetIds().get(0), e.leaseId(), e.charged(),
                    e.budgetIds()));
            publishCrossings(e.crossings(), now);
        }
    }

    /** Settled usage into the history forecasts read; per-user budgets are not kept (unbounded). */
    private void recordHistory(List<String> budgetIds, Instant at, long input, long output) {
        if (input == 0 && output == 0) {
            return;
        }
        try {
            List<String> kept = budgetIds.stream().filter(b -> !b.startsWith("user:")).toList();
            history.record(kept, at, input, output);
        } catch (RuntimeException e) {
            LOG.warn("recording usage history failed: {}", e.toString());
        }
    }

    /** The usage history this engine records settlements into (for forecasts and dashboards). */
    public UsageHistory history() {
        return history;
    }

    private void publishCrossings(List<ThresholdCrossing> crossings, Instant now) {
        for (ThresholdCrossing c : crossings) {
            events.publish(() -> new BudgetEvent.ThresholdCrossed(now, c.budgetId(), c.windowKey(), c.percent(),
                    c.used(), c.limits()));
        }
    }

    /** Status of every configured budget (user budgets are created on demand and not listed). */
    public List<BudgetStatus> status() {
        List<BudgetStatus> out = new ArrayList<>();
        for (Budget b : plan.config.budgets().budgets()) {
            out.add(status(b.id()).orElseThrow());
        }
        for (VirtualKey k : plan.config.keys()) {
            k.own().ifPresent(b -> out.add(status(b.id()).orElseThrow()));
        }
        return out;
    }

    /** Status of one budget: each window's limits, used and reserved tokens, utilisation and state. */
    public Optional<BudgetStatus> status(String budgetId) {
        return StatusView.status(plan, store, budgetId, clock.now());
    }

    /**
     * Changes the limits of one window of a budget at run time, effective for the next request.
     * Thresholds re-arm for the new limit. The change is saved in the store first, so that every
     * engine sharing it applies it too ({@link #syncLimits}); a store that cannot save it throws
     * {@link dev.tokenbudget.store.StoreUnavailableException} and nothing changes.
     */
    public void updateLimits(String budgetId, String windowName, Limits limits) {
        runtimeLimits.update(budgetId, windowName, limits);
    }

    /**
     * Applies the limit changes other engines saved in the shared store since the last call (one
     * cheap store call when there are none); hosts call it every second or so, the admin server
     * does. A change made against other configured limits than this engine's (its config was
     * edited since) is ignored: the config wins. Returns how many windows changed.
     *
     * @throws dev.tokenbudget.store.StoreUnavailableException when the store cannot be read
     */
    public int syncLimits() {
        return runtimeLimits.sync();
    }

    /** Strips a client-supplied value to something safe to echo in messages and headers. */
    static String sanitise(String s) {
        String t = s.length() > 64 ? s.substring(0, 64) : s;
        return t.replaceAll("[^A-Za-z0-9._:-]", "?");
    }

    @Override
    public void close() {
        if (history instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("closing the usage history failed: {}", e.toString());
            }
        }
        store.close();
    }
}
