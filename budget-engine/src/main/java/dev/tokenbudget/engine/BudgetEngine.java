package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Budget;
import dev.tokenbudget.budget.FailMode;
import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.config.EngineConfig;
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
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.StoreUnavailableException;
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
import java.util.concurrent.CompletionStage;

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

    private final BudgetStore store;
    private final BudgetClock clock;
    private final BudgetTelemetry telemetry;
    private final UsageHistory history;
    private final EventBus events = new EventBus();
    private final StoreOutcomes outcomes;
    private final ReserveFlow reserving;
    private final SettleFlow settling;
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
        this.outcomes = new StoreOutcomes(telemetry, history, events);
        this.settling = new SettleFlow(store, clock, telemetry, events, outcomes);
        this.reserving = new ReserveFlow(() -> plan, store, clock, telemetry, events, rebalancer, outcomes,
                HexFormat.of().formatHex(b) + "-", settling);
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
        return reserving.reserve(r);
    }

    /**
     * {@link #reserve} without blocking on the store: the path is planned on the calling thread and
     * the stage completes with the ticket when the store has answered (at once on the in-memory
     * store; on Redis from Lettuce's I/O thread, where event listeners then run too and dependent
     * stages must not block). A store failure is answered by the path's fail mode, as by
     * {@link #reserve}; the stage fails only for a bug.
     */
    public CompletionStage<Ticket> reserveAsync(BudgetRequest r) {
        return reserving.reserveAsync(r);
    }

    /** Settles a ticket with the usage the provider reported. A second call is a no-op. */
    public SettleResult.Status settle(Ticket t, TokenUsage usage) {
        Objects.requireNonNull(usage, "usage");
        return settling.finish(t, usage.inputTokens(), usage.outputTokens(), false);
    }

    /**
     * Settles a ticket whose response carried no usage, at its reservation (the estimate: input
     * estimate plus output ceiling), and says so in an event.
     */
    public SettleResult.Status settleUnknown(Ticket t) {
        return settling.unknownSettled(t, settling.finish(t, t.reservedInput(), t.reservedOutput(), false));
    }

    /** Releases a ticket whose request used nothing (upstream refused it, client went away first). */
    public SettleResult.Status release(Ticket t) {
        return settling.finish(t, 0, 0, true);
    }

    /**
     * {@link #settle} without blocking on the store: completes when the store has answered (on
     * which thread: see {@link #reserveAsync}). A store failure completes it with
     * {@link SettleResult.Status#UNKNOWN_LEASE}, as {@link #settle} returns it.
     */
    public CompletionStage<SettleResult.Status> settleAsync(Ticket t, TokenUsage usage) {
        Objects.requireNonNull(usage, "usage");
        return settling.finishAsync(t, usage.inputTokens(), usage.outputTokens(), false);
    }

    /** {@link #settleUnknown} without blocking on the store, as {@link #settleAsync}. */
    public CompletionStage<SettleResult.Status> settleUnknownAsync(Ticket t) {
        return settling.finishAsync(t, t.reservedInput(), t.reservedOutput(), false)
                .thenApply(s -> settling.unknownSettled(t, s));
    }

    /** {@link #release} without blocking on the store, as {@link #settleAsync}. */
    public CompletionStage<SettleResult.Status> releaseAsync(Ticket t) {
        return settling.finishAsync(t, 0, 0, true);
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
        outcomes.expired(expired, now);
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

    /** The usage history this engine records settlements into (for forecasts and dashboards). */
    public UsageHistory history() {
        return history;
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

    /** Settles and releases the store has not acknowledged yet, being sent again (docs/redis.md). */
    public int pendingSettles() {
        return settling.pending();
    }

    @Override
    public void close() {
        settling.close();
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
