package dev.tokenbudget.store.redis;

import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.store.AllocationStore;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;
import dev.tokenbudget.store.StoreIncident;
import dev.tokenbudget.store.StoreUnavailableException;
import dev.tokenbudget.store.redis.RedisScripts.Script;
import io.lettuce.core.RedisException;
import io.lettuce.core.ScriptOutputType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The shared store: budget state in Redis (standalone, Sentinel or Cluster) through Lettuce, so
 * that every gateway instance pointing at the same Redis shares budgets.
 *
 * <p>Reservations over a whole path, settles and releases are group-committed per tree
 * ({@link TreeBatcher}): while one EVALSHA of {@code tokenbudget/batch.lua} for a tree is in flight,
 * the next commands for it queue and go together in the next call, applied in order, each all or
 * nothing as {@code reserve.lua} and {@code settle.lua} apply one alone. All keys of a budget tree carry the tree id as
 * their hash tag, so a Cluster runs each script on one node. Leases are timed by Redis's own
 * clock ({@code TIME}) and are charged at their reservation by whichever script next touches the
 * tree after they run out, or by {@link #expireLeases}. Key layout and failure behaviour:
 * {@code docs/redis.md}. Thread-safe; one Lettuce connection is shared by all callers.
 */
public final class RedisBudgetStore implements BudgetStore, AllocationStore.Forwarding {

    private static final Logger LOG = LoggerFactory.getLogger(RedisBudgetStore.class);
    /** Expired leases charged in passing per reserve/settle; the rest wait for the next call. */
    static final int EXPIRE_IN_PASSING = 32;
    /** How long a tree's ledger is kept after its newest entry. */
    static final Duration LEDGER_TTL = Duration.ofDays(400);
    /** Arguments of reserve.lua before the slots' (HEAD there). */
    static final int RESERVE_HEAD = 7;
    private static final int EXPIRE_SWEEP = 256;

    private final RedisConnector connector;
    private final RedisKeys keys;
    /** Trees this process sent a reservation for: swept by {@link #expireLeases} whatever Redis says. */
    private final Set<String> knownTrees = ConcurrentHashMap.newKeySet();
    /** Of those, the ones confirmed in the shared set of trees, which every instance sweeps. */
    private final Set<String> registeredTrees = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> generations = new ConcurrentHashMap<>();
    private final List<Consumer<StoreIncident>> listeners = new CopyOnWriteArrayList<>();
    private final TreeBatcher batcher;
    private final RedisAllocation allocation;
    private final Duration waitBound;

    private RedisBudgetStore(RedisConnector connector, String keyPrefix, Duration timeout) {
        this.connector = connector;
        this.keys = new RedisKeys(keyPrefix);
        // a queued command waits for the call ahead of it and then its own
        this.waitBound = timeout.multipliedBy(2).plusSeconds(1);
        this.batcher = new TreeBatcher((tree, k, a) -> RedisScripts.runAsync(connector.link().scriptingAsync(),
                Script.BATCH, ScriptOutputType.MULTI, k, a, tree, why -> incident(new StoreIncident(tree,
                        StoreIncident.Kind.SCRIPTS_RELOADED, why))), keys, EXPIRE_IN_PASSING);
        this.allocation = new RedisAllocation(connector, keys, this::run, this::incident);
        connector.onConnect(link -> RedisScripts.loadAll(link.scripting()));
    }

    /**
     * Opens the store described by {@code settings} ({@code type: redis}). Connects at once, but a
     * Redis that is down does not stop the engine from starting: the store connects as soon as it
     * can and, until then, every call fails fast so that each budget's fail mode applies.
     *
     * @throws IllegalArgumentException for a URI Lettuce cannot parse
     */
    public static RedisBudgetStore open(StoreSettings settings) {
        Objects.requireNonNull(settings, "settings");
        RedisBudgetStore store = new RedisBudgetStore(RedisConnector.of(settings), settings.keyPrefix(),
                settings.timeout());
        store.connector.tryConnect();
        return store;
    }

    /** A store on {@code uri} ({@code redis://}, {@code rediss://}, {@code redis-sentinel://}). */
    public static RedisBudgetStore open(String uri, Duration timeout, String keyPrefix) {
        return open(new StoreSettings("redis", uri, false, timeout, keyPrefix));
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.SHARED, Capability.BLOCKING_IO, Capability.SERVER_TIME, Capability.ALLOCATION,
                Capability.ASYNC_DECISIONS);
    }

    @Override
    public void onIncident(Consumer<StoreIncident> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public ReserveResult reserve(ReserveCommand c) {
        return await(reserveAsync(c));
    }

    @Override
    public SettleResult settle(SettleCommand c) {
        return await(settleAsync(c));
    }

    /**
     * Queued for the tree's next call of batch.lua ({@link TreeBatcher}): never blocks; the stage
     * completes on Lettuce's I/O thread.
     */
    @Override
    public CompletableFuture<ReserveResult> reserveAsync(ReserveCommand c) {
        String tree = c.treeId();
        if (c.leaseId().startsWith("!")) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("lease id must not start with '!' "
                    + "(reserved for tree metadata), was '" + c.leaseId() + "'"));
        }
        List<Slot> slots = c.slots();
        String[] k = new String[slots.size()];
        String[] p = new String[slots.size() * SlotArgs.COUNT];
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            k[i] = keys.window(tree, s);
            SlotArgs.write(p, i * SlotArgs.COUNT, s, c.lower() == null ? null : c.lower().lines().get(i));
        }
        long leaseTtl = Math.max(1, Duration.between(c.now(), c.leaseExpiresAt()).toMillis());
        // reserve.lua's head (RESERVE_HEAD): what is the command's own; the path's settings go once per call
        String[] a = {c.leaseId(), Long.toString(leaseTtl), Long.toString(c.input()), Long.toString(c.output()),
            Integer.toString(EXPIRE_IN_PASSING), Long.toString(c.now().toEpochMilli()),
            Long.toString(c.lower() == null ? -1 : c.lower().output())};
        // known before the call: a reservation whose reply is lost may still have been recorded
        knownTrees.add(tree);
        return batcher.submit(tree, new TreeBatcher.Command('r', new ReservePath(k, p), a)).thenApply(reply -> {
            ReserveResult result = ScriptReplies.reserve(tree, reply);
            checkGeneration(tree, ScriptReplies.string(reply.get(0)));
            register(tree);
            return result;
        });
    }

    @Override
    public CompletableFuture<SettleResult> settleAsync(SettleCommand c) {
        String tree = c.treeId();
        String[] a = {c.leaseId(), Long.toString(c.input()), Long.toString(c.output()), c.release() ? "1" : "0",
            Integer.toString(EXPIRE_IN_PASSING)};
        return batcher.submit(tree, new TreeBatcher.Command('s', null, a)).thenApply(reply -> {
            checkGeneration(tree, ScriptReplies.string(reply.get(0)));
            return ScriptReplies.settle(tree, reply);
        });
    }

    /** The result of a stage, or what it failed with, as the blocking methods throw it. */
    private <T> T await(CompletableFuture<T> f) {
        try {
            // the command timeout ends every call; this bound only guards against a lost completion
            return f.get(waitBound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new StoreUnavailableException("Redis: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new StoreUnavailableException("Redis: no answer within " + waitBound.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted while waiting for Redis", e);
        }
    }

    @Override
    public List<SlotState> read(String treeId, List<Slot> slots, Instant now) {
        if (slots.isEmpty()) {
            return List.of();
        }
        String[] k = new String[slots.size()];
        String[] a = new String[slots.size() * 2];
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            k[i] = keys.window(treeId, s);
            a[2 * i] = Long.toString(s.window().bucket());
            a[2 * i + 1] = Integer.toString(s.window().bucketCount());
        }
        return ScriptReplies.states(run(Script.READ, k, a, treeId));
    }

    /**
     * Charges every lease that ran out by Redis's clock ({@code now} is not used: leases are
     * timed by the server), in every tree any engine on this Redis registered. Dead windows need
     * no sweep: their keys expire by TTL.
     */
    @Override
    public List<LeaseExpiry> expireLeases(Instant now) {
        Set<String> trees = new LinkedHashSet<>(knownTrees);
        try {
            trees.addAll(connector.link().sets().smembers(keys.trees()));
        } catch (RedisException e) {
            throw new StoreUnavailableException("Redis: cannot list budget trees: " + e.getMessage(), e);
        }
        for (String tree : knownTrees) {
            if (!registeredTrees.contains(tree)) {
                try {
                    connector.link().sets().sadd(keys.trees(), tree);
                    registeredTrees.add(tree);
                } catch (RedisException | StoreUnavailableException e) {
                    LOG.debug("tree {} not registered yet: {}", tree, e.getMessage());
                }
            }
        }
        List<LeaseExpiry> out = new ArrayList<>();
        for (String tree : trees) {
            try {
                List<Object> reply;
                do {
                    reply = run(Script.EXPIRE, new String[] {keys.leases(tree), keys.expiries(tree)},
                            new String[] {Integer.toString(EXPIRE_SWEEP)}, tree);
                    checkGeneration(tree, ScriptReplies.string(reply.get(0)));
                    out.addAll(ScriptReplies.expired(tree, ScriptReplies.list(reply.get(1))));
                } while (ScriptReplies.list(reply.get(1)).size() == EXPIRE_SWEEP);
            } catch (StoreUnavailableException e) {
                // report what the other trees expired rather than lose it; this tree waits for the next sweep
                LOG.warn("lease sweep of tree '{}' failed, retried on the next sweep: {}", tree, e.getMessage());
            }
        }
        return out;
    }

    /** Cross-team allocation, the ledger and limit changes, on the same connection and keys. */
    @Override
    public AllocationStore allocations() {
        return allocation;
    }

    private List<Object> run(Script script, String[] k, String[] a, String tree) {
        return RedisScripts.run(connector.link().scripting(), script, ScriptOutputType.MULTI, k, a, tree,
                why -> incident(new StoreIncident(tree, StoreIncident.Kind.SCRIPTS_RELOADED, why)));
    }

    /**
     * Adds a tree to the shared set every instance's {@link #expireLeases} sweeps: once per tree
     * and process (again after a reset), so only a tree's first reservation costs a second round trip.
     */
    private void register(String tree) {
        if (registeredTrees.contains(tree)) {
            return;
        }
        try {
            // without blocking: this runs on Lettuce's I/O thread after a reservation
            connector.link().setsAsync().sadd(keys.trees(), tree).whenComplete((n, e) -> {
                if (e == null) {
                    registeredTrees.add(tree);
                } else {
                    LOG.debug("tree {} not registered yet: {}", tree, e.getMessage());
                }
            });
        } catch (RedisException | StoreUnavailableException e) {
            LOG.debug("tree {} not registered yet: {}", tree, e.getMessage());
        }
    }

    /**
     * A tree whose generation (its creation time on the server, in microseconds) is newer than
     * the one seen before lost its state: say so once per new generation. Replies that carry no
     * generation (the tree is gone) or an older one (a reply overtaken by another) say nothing new.
     */
    private void checkGeneration(String tree, String gen) {
        if (gen.isEmpty()) {
            return;
        }
        long g = Long.parseLong(gen);
        Long before = generations.get(tree);
        if (before != null && g <= before) {
            return;
        }
        if (before == null ? generations.putIfAbsent(tree, g) != null : !generations.replace(tree, before, g)) {
            checkGeneration(tree, gen);
            return;
        }
        if (before != null) {
            registeredTrees.remove(tree);
            String why = "Redis lost the state of budget tree '" + tree + "' (FLUSHALL, restart without "
                    + "persistence, failover to a replica that had not caught up, eviction, or expiry after idling past "
                    + "its windows): usage counted before is gone and leases in flight settle as unknown";
            LOG.error(why);
            incident(new StoreIncident(tree, StoreIncident.Kind.STATE_LOST, why));
        }
    }

    private void incident(StoreIncident i) {
        for (Consumer<StoreIncident> l : listeners) {
            try {
                l.accept(i);
            } catch (RuntimeException e) {
                LOG.warn("store incident listener failed: {}", e.toString());
            }
        }
    }

    /** What this store is connected to, for logs (credentials left out). */
    @Override
    public String toString() {
        return "RedisBudgetStore[" + connector.description() + ", prefix " + keys.prefix() + "]";
    }

    @Override
    public void close() {
        connector.close();
    }
}
