package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.Limits;
import dev.tokenbudget.ledger.LedgerChange;
import dev.tokenbudget.ledger.LedgerEntry;
import dev.tokenbudget.store.AllocationState;
import dev.tokenbudget.store.AllocationStore;
import dev.tokenbudget.store.Hold;
import dev.tokenbudget.store.HoldCommand;
import dev.tokenbudget.store.LedgerPage;
import dev.tokenbudget.store.LimitOverride;
import dev.tokenbudget.store.LimitOverrides;
import dev.tokenbudget.store.RebalanceCommand;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.StoreIncident;
import dev.tokenbudget.store.redis.RedisScripts.Script;
import io.lettuce.core.ScriptOutputType;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The Redis store's calls besides decisions: cross-team allocation (rebalances, holds, pool
 * state), a tree's ledger, and run-time limit changes. One script call each, not batched.
 */
final class RedisAllocation implements AllocationStore {

    /** Runs a script for a tree (RedisBudgetStore#run): Redis errors as StoreUnavailableException. */
    interface Runner {
        List<Object> run(Script script, String[] keys, String[] args, String tree);
    }

    private final RedisConnector connector;
    private final RedisKeys keys;
    private final Runner runner;
    private final Consumer<StoreIncident> incident;

    RedisAllocation(RedisConnector connector, RedisKeys keys, Runner runner, Consumer<StoreIncident> incident) {
        this.connector = connector;
        this.keys = keys;
        this.runner = runner;
        this.incident = incident;
    }

    private List<Object> run(Script script, String[] k, String[] a, String tree) {
        return runner.run(script, k, a, tree);
    }

    /** One EVALSHA of rebalance.lua: the claim, the moves and their ledger entries together. */
    @Override
    public RebalanceCommand.Result rebalance(RebalanceCommand c) {
        String tree = c.treeId();
        List<Slot> kids = c.children();
        String[] k = new String[3 + kids.size()];
        k[0] = keys.ledger(tree);
        k[1] = keys.ledgerKeys(tree);
        k[2] = keys.window(tree, c.parent());
        int head = 9;
        String[] a = new String[head + kids.size() * 8];
        a[0] = Long.toString(c.now().toEpochMilli());
        a[1] = Long.toString(RedisBudgetStore.LEDGER_TTL.toMillis());
        a[2] = c.parent().key();
        a[3] = c.parent().window().key();
        a[4] = Integer.toString(c.belowPercent());
        a[5] = Integer.toString(c.sharePercent());
        a[6] = Integer.toString(c.maxPercent());
        a[7] = c.reason();
        a[8] = ttl(c.now(), c.parent());
        for (int i = 0; i < kids.size(); i++) {
            Slot s = kids.get(i);
            k[3 + i] = keys.window(tree, s);
            int at = head + i * 8;
            a[at] = s.budgetId();
            a[at + 1] = Long.toString(s.limits().input());
            a[at + 2] = Long.toString(s.limits().output());
            a[at + 3] = Long.toString(s.limits().total());
            a[at + 4] = Long.toString(s.caps().input());
            a[at + 5] = Long.toString(s.caps().output());
            a[at + 6] = Long.toString(s.caps().total());
            a[at + 7] = ttl(c.now(), s);
        }
        List<Object> reply = run(Script.REBALANCE, k, a, tree);
        return new RebalanceCommand.Result(ScriptReplies.num(reply.get(0)) == 1,
                LedgerJson.entries(ScriptReplies.list(reply.get(1))));
    }

    @Override
    public HoldCommand.Result changeHold(HoldCommand c) {
        String tree = c.treeId();
        Hold h = c.hold();
        String[] k = {keys.ledger(tree), keys.ledgerKeys(tree), keys.window(tree, c.slot())};
        String[] a = {Long.toString(c.now().toEpochMilli()), Long.toString(RedisBudgetStore.LEDGER_TTL.toMillis()),
            c.delete() ? "delete" : "create", h.id(), h.forBudget() == null ? "" : h.forBudget(),
            Long.toString(h.tokens().input()), Long.toString(h.tokens().output()), Long.toString(h.tokens().total()),
            Long.toString(h.until().toEpochMilli()), c.slot().budgetId(), c.slot().window().key(), c.actor(),
            c.reason() == null ? "" : c.reason(), ttl(c.now(), c.slot())};
        List<Object> reply = run(Script.HOLD, k, a, tree);
        if (ScriptReplies.num(reply.get(0)) != 1) {
            return new HoldCommand.Result(false, null);
        }
        return new HoldCommand.Result(true, LedgerJson.entry(reply.get(1).toString()));
    }

    @Override
    public AllocationState readAllocation(String treeId, Slot parent, List<Slot> children, Instant now) {
        String[] k = new String[1 + children.size()];
        k[0] = keys.window(treeId, parent);
        for (int i = 0; i < children.size(); i++) {
            k[1 + i] = keys.window(treeId, children.get(i));
        }
        return ScriptReplies.allocation(run(Script.ALLOCATION, k, new String[] {Long.toString(now.toEpochMilli())},
                treeId));
    }

    @Override
    public LedgerPage ledger(String treeId, long afterSeq, int max) {
        List<Object> reply = run(Script.LEDGER, new String[] {keys.ledger(treeId)},
                new String[] {Long.toString(Math.max(0, afterSeq)), Integer.toString(Math.max(0, max))}, treeId);
        return new LedgerPage(LedgerJson.entries(reply.subList(1, reply.size())), ScriptReplies.num(reply.get(0)));
    }

    @Override
    public LedgerEntry appendLedger(String treeId, Instant at, LedgerChange change) {
        List<Object> reply = run(Script.LEDGER_APPEND, new String[] {keys.ledger(treeId), keys.ledgerKeys(treeId)},
                new String[] {LedgerJson.encode(at, change), Long.toString(RedisBudgetStore.LEDGER_TTL.toMillis())},
                treeId);
        return LedgerJson.entry(reply.get(0).toString());
    }

    /** A TTL relative to the engine's now, as the window slots carry it (SlotArgs). */
    private static String ttl(Instant now, Slot s) {
        return Long.toString(Math.max(1, Duration.between(now, s.window().expiresAt()).toMillis()));
    }

    @Override
    public long saveLimits(LimitOverride c) {
        String[] a = {c.budgetId() + "/" + c.window(), limits(c.base()), limits(c.limits())};
        Long v = RedisScripts.run(connector.link().scripting(), Script.SAVE_LIMITS, ScriptOutputType.INTEGER,
                new String[] {keys.limits()}, a, "(limits)", why -> incident.accept(new StoreIncident(c.budgetId(),
                        StoreIncident.Kind.SCRIPTS_RELOADED, why)));
        return v;
    }

    @Override
    public LimitOverrides limitOverrides(long knownVersion) {
        List<Object> reply = RedisScripts.run(connector.link().scripting(), Script.LIMITS, ScriptOutputType.MULTI,
                new String[] {keys.limits()}, new String[] {Long.toString(knownVersion)}, "(limits)",
                why -> incident.accept(new StoreIncident("(limits)", StoreIncident.Kind.SCRIPTS_RELOADED, why)));
        long version = (Long) reply.get(0);
        List<LimitOverride> out = new ArrayList<>();
        for (int i = 1; i + 1 < reply.size(); i += 2) {
            String field = ScriptReplies.string(reply.get(i));
            String[] v = ScriptReplies.string(reply.get(i + 1)).split("\\|");
            int slash = field.indexOf('/');
            out.add(new LimitOverride(field.substring(0, slash), field.substring(slash + 1), limits(v[1]),
                    limits(v[2]), Long.parseLong(v[0])));
        }
        return new LimitOverrides(version, out);
    }

    private static String limits(Limits l) {
        return l.input() + "," + l.output() + "," + l.total();
    }

    private static Limits limits(String s) {
        String[] p = s.split(",");
        return new Limits(Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2]));
    }
}
