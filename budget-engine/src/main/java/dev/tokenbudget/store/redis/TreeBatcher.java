package dev.tokenbudget.store.redis;

import dev.tokenbudget.store.StoreUnavailableException;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;

/**
 * Group commit per budget tree. While one call of {@code batch.lua} for a tree is in flight, the
 * reserves and settles that arrive for that tree wait in the tree's queue; when the call returns,
 * up to {@link #MAX_BATCH} of them go together in the next call, which applies them in arrival
 * order, each all or nothing with its own reply. Reserves on the same path (equal {@link ReservePath}s)
 * share its keys and settings in the call, sent and parsed once. One tree never has more than one call in flight,
 * so Redis runs a tree's commands in the order they were queued; different trees do not wait for
 * each other.
 *
 * <p>A call that fails (timeout, connection lost, Redis error) fails every command in it, and every
 * command queued behind it, which was never sent: each caller gets its answer within about one
 * command timeout and applies its fail mode. A failed call may still have run (a timeout, a reply
 * lost with the connection): as for a single reserve, its leases are charged at their reservation
 * when they expire and its settles counted; nothing is sent again, so nothing counts twice.
 */
final class TreeBatcher {

    /** Commands per call at most: bounds the script's run (Redis runs nothing else meanwhile) and the reply. */
    static final int MAX_BATCH = 64;

    /** Sends one call of batch.lua: keys and arguments as it takes them; completes with one reply per command. */
    interface Sender {
        CompletableFuture<List<Object>> send(String tree, String[] keys, String[] args);
    }

    /**
     * One command: 'r' with its path, or 's' without ({@code path} null); its batch.lua arguments
     * after the kind (and path index).
     */
    record Command(char kind, ReservePath path, String[] args, CompletableFuture<List<Object>> reply) {

        Command(char kind, ReservePath path, String[] args) {
            this(kind, path, args, new CompletableFuture<>());
        }
    }

    private static final class Lane {
        final ArrayDeque<Command> queue = new ArrayDeque<>();
        boolean busy;

        List<Command> take() {
            List<Command> out = new ArrayList<>(Math.min(queue.size(), MAX_BATCH));
            while (!queue.isEmpty() && out.size() < MAX_BATCH) {
                out.add(queue.poll());
            }
            return out;
        }
    }

    private final ConcurrentHashMap<String, Lane> lanes = new ConcurrentHashMap<>();
    private final Sender sender;
    private final RedisKeys keys;
    private final int expiryPerCommand;

    TreeBatcher(Sender sender, RedisKeys keys, int expiryPerCommand) {
        this.sender = sender;
        this.keys = keys;
        this.expiryPerCommand = expiryPerCommand;
    }

    /** Queues {@code c} for {@code tree}; its stage completes with its own reply (or the call's failure). */
    CompletableFuture<List<Object>> submit(String tree, Command c) {
        Lane lane = lanes.computeIfAbsent(tree, t -> new Lane());
        List<Command> batch;
        synchronized (lane) {
            lane.queue.add(c);
            if (lane.busy) {
                return c.reply();
            }
            lane.busy = true;
            batch = lane.take();
        }
        send(tree, lane, batch);
        return c.reply();
    }

    private void send(String tree, Lane lane, List<Command> batch) {
        // each distinct path once (its 1-based index in the call), however many reserves share it
        Map<ReservePath, Integer> paths = new LinkedHashMap<>();
        int nkeys = 2;
        int nargs = 2;
        for (Command c : batch) {
            if (c.kind() == 'r' && paths.putIfAbsent(c.path(), paths.size() + 1) == null) {
                nkeys += c.path().keys().length;
                nargs += 1 + c.path().args().length;
            }
            nargs += (c.kind() == 'r' ? 2 : 1) + c.args().length;
        }
        String[] k = new String[nkeys];
        String[] a = new String[nargs];
        k[0] = keys.leases(tree);
        k[1] = keys.expiries(tree);
        // as many leases expired in passing as the commands would have expired one by one
        a[0] = Integer.toString(expiryPerCommand * batch.size());
        a[1] = Integer.toString(paths.size());
        int ki = 2;
        int ai = 2;
        for (ReservePath p : paths.keySet()) {
            a[ai++] = Integer.toString(p.keys().length);
            System.arraycopy(p.keys(), 0, k, ki, p.keys().length);
            ki += p.keys().length;
            System.arraycopy(p.args(), 0, a, ai, p.args().length);
            ai += p.args().length;
        }
        for (Command c : batch) {
            a[ai++] = c.kind() == 'r' ? "r" : "s";
            if (c.kind() == 'r') {
                a[ai++] = Integer.toString(paths.get(c.path()));
            }
            System.arraycopy(c.args(), 0, a, ai, c.args().length);
            ai += c.args().length;
        }
        CompletableFuture<List<Object>> call;
        try {
            call = sender.send(tree, k, a);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        call.whenComplete((replies, error) -> done(tree, lane, batch, replies, error));
    }

    private void done(String tree, Lane lane, List<Command> batch, List<Object> replies, Throwable error) {
        List<Command> next = null;
        List<Command> behind = List.of();
        synchronized (lane) {
            if (error != null) {
                behind = new ArrayList<>(lane.queue);
                lane.queue.clear();
            }
            if (lane.queue.isEmpty()) {
                lane.busy = false;
            } else {
                next = lane.take();
            }
        }
        // the next call goes out before the waiters run on, so Redis is not left idle meanwhile
        if (next != null) {
            send(tree, lane, next);
        }
        if (error != null) {
            RuntimeException e = failure(error);
            batch.forEach(c -> c.reply().completeExceptionally(e));
            StoreUnavailableException notSent = new StoreUnavailableException("not sent to Redis: the call before it "
                    + "on budget tree '" + tree + "' failed: " + e.getMessage(), e);
            behind.forEach(c -> c.reply().completeExceptionally(notSent));
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            Command c = batch.get(i);
            if (replies == null || i >= replies.size()) {
                c.reply().completeExceptionally(new StoreUnavailableException("Redis answered " + (replies == null
                        ? "nothing" : replies.size() + " replies") + " to a batch of " + batch.size()
                        + " commands on budget tree '" + tree + "'", null));
                continue;
            }
            List<Object> r = ScriptReplies.list(replies.get(i));
            if (!r.isEmpty() && "!err".equals(ScriptReplies.string(r.get(0)))) {
                c.reply().completeExceptionally(new StoreUnavailableException("Redis script '"
                        + (c.kind() == 'r' ? "reserve" : "settle") + "' on budget tree '" + tree + "' failed: "
                        + ScriptReplies.string(r.get(1)), null));
            } else {
                c.reply().complete(r);
            }
        }
    }

    private static RuntimeException failure(Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        return e instanceof RuntimeException r ? r : new StoreUnavailableException(String.valueOf(e.getMessage()), e);
    }
}
