package dev.tokenbudget.routing;

import dev.tokenbudget.time.BudgetClock;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One upstream quota (a provider account and model class) shared by many tenants: token buckets
 * for its per-minute limits, and a weighted fair queue in front of them.
 *
 * <p>A request that fits while nobody waits goes at once. Otherwise it waits, at most
 * {@code maxWait}, and waiting requests are granted in start-time fair queuing order: each
 * tenant's requests are tagged with a virtual start time {@code max(V, tenant's last finish)} and
 * finish {@code start + tokens / weight}; the smallest start goes first. Tenants that both keep
 * the queue full share capacity in proportion to their weights; an idle tenant accumulates no
 * credit (work-conserving), and a light tenant is never stuck behind a heavy one's backlog. A
 * request that can never fit, or would wait too long, is refused with a retry time, before it
 * costs a provider 429.
 */
public final class UpstreamLimiter {

    /** The answer to {@link #acquire}. */
    public record Permit(boolean granted, long waitedNanos, long retryAfterSeconds, long input, long output) {
    }

    private final String name;
    private final BudgetClock clock;
    private final Duration maxWait;
    private final Map<String, Integer> weights;
    private final ScheduledExecutorService timer;
    private final TokenBucket requests;
    private final TokenBucket input;
    private final TokenBucket output;
    private final TokenBucket tokens;
    private final Map<String, Tenant> tenants = new HashMap<>();
    private double virtualTime;
    private int waiting;
    private ScheduledFuture<?> wakeUp;
    private long wakeUpAt = Long.MAX_VALUE;

    /**
     * @param timer wakes waiting requests when tokens refill; null to drive the limiter with
     *              {@link #poll()} (tests and simulations on a manual clock)
     */
    public UpstreamLimiter(String name, TierLimits limits, Duration maxWait, Map<String, Integer> weights,
                           BudgetClock clock, ScheduledExecutorService timer) {
        this.name = name;
        this.clock = clock;
        this.maxWait = maxWait;
        this.weights = Map.copyOf(weights);
        this.timer = timer;
        long now = clock.nanoTime();
        this.requests = bucket(limits.requestsPerMinute(), now);
        this.input = bucket(limits.inputTokensPerMinute(), now);
        this.output = bucket(limits.outputTokensPerMinute(), now);
        this.tokens = bucket(limits.tokensPerMinute(), now);
    }

    private static TokenBucket bucket(long perMinute, long now) {
        return perMinute == TierLimits.NONE ? null : new TokenBucket(perMinute, now);
    }

    public String name() {
        return name;
    }

    /** Asks for room for one request of a tenant; completes when granted or refused. */
    public CompletableFuture<Permit> acquire(String tenant, long inputTokens, long outputTokens) {
        return acquire(tenant, inputTokens, outputTokens, maxWait);
    }

    /**
     * {@link #acquire(String, long, long)} waiting at most {@code wait} (and never past this quota's
     * own {@code max_wait}): for a caller that must answer by a deadline of its own, such as
     * Envoy's per-message timeout. A request that does not fit now and may not wait is refused.
     */
    public CompletableFuture<Permit> acquire(String tenant, long inputTokens, long outputTokens, Duration wait) {
        // at least 1 ns: a request that fits now is granted even with no time left to wait
        long waitNanos = Math.max(1, Math.min(wait.toNanos(), maxWait.toNanos()));
        CompletableFuture<Permit> f = new CompletableFuture<>();
        List<Runnable> done;
        synchronized (this) {
            long now = clock.nanoTime();
            refill(now);
            if (!canEverFit(inputTokens, outputTokens)) {
                f.complete(new Permit(false, 0, 60, inputTokens, outputTokens));
                return f;
            }
            Tenant t = tenants.computeIfAbsent(tenant, k -> new Tenant(Math.max(1, weights.getOrDefault(k, 1))));
            double start = Math.max(virtualTime, t.lastFinish);
            t.lastFinish = start + (double) Math.max(1, inputTokens + outputTokens) / t.weight;
            t.queue.add(new Waiter(start, inputTokens, outputTokens, now, now + waitNanos, f));
            waiting++;
            done = dispatch(now);
        }
        done.forEach(Runnable::run);
        return f;
    }

    /** Grants what fits now and refuses what waited too long; hosts without a timer call this. */
    public void poll() {
        List<Runnable> done;
        synchronized (this) {
            long now = clock.nanoTime();
            refill(now);
            done = dispatch(now);
        }
        done.forEach(Runnable::run);
    }

    /** Credits back what a granted request did not use (its estimate was higher than its usage). */
    public void settle(Permit p, long actualInput, long actualOutput) {
        if (!p.granted()) {
            return;
        }
        synchronized (this) {
            refill(clock.nanoTime());
            refund(input, p.input() - actualInput);
            refund(output, p.output() - actualOutput);
            refund(tokens, p.input() + p.output() - actualInput - actualOutput);
        }
        poll();
    }

    /**
     * Gives back everything a granted permit took, the request included: its request never went
     * upstream (the caller abandoned it before forwarding).
     */
    public void giveBack(Permit p) {
        if (!p.granted()) {
            return;
        }
        synchronized (this) {
            refill(clock.nanoTime());
            refund(requests, 1);
            refund(input, p.input());
            refund(output, p.output());
            refund(tokens, p.input() + p.output());
        }
        poll();
    }

    private static void refund(TokenBucket b, long amount) {
        if (b != null && amount > 0) {
            b.refund(amount);
        }
    }

    /** Adopts the provider's own view of this quota from a response's rate-limit headers. */
    public void calibrate(RateLimitHeaders.Reading r) {
        synchronized (this) {
            refill(clock.nanoTime());
            calibrate(requests, r.requestsLimit().orElse(-1), r.requestsRemaining().orElse(-1));
            calibrate(input, r.inputLimit().orElse(-1), r.inputRemaining().orElse(-1));
            calibrate(output, r.outputLimit().orElse(-1), r.outputRemaining().orElse(-1));
            calibrate(tokens, r.tokensLimit().orElse(-1), r.tokensRemaining().orElse(-1));
        }
    }

    private static void calibrate(TokenBucket b, long limit, long remaining) {
        if (b != null) {
            b.calibrate(limit, remaining);
        }
    }

    /** Tokens left now in each limited dimension (for status and tests). */
    public synchronized Map<String, Long> levels() {
        refill(clock.nanoTime());
        Map<String, Long> m = new HashMap<>();
        if (requests != null) {
            m.put("requests", requests.level());
        }
        if (input != null) {
            m.put("input", input.level());
        }
        if (output != null) {
            m.put("output", output.level());
        }
        if (tokens != null) {
            m.put("tokens", tokens.level());
        }
        return m;
    }

    public synchronized int waiting() {
        return waiting;
    }

    private void refill(long now) {
        for (TokenBucket b : new TokenBucket[] {requests, input, output, tokens}) {
            if (b != null) {
                b.refill(now);
            }
        }
    }

    private boolean canEverFit(long in, long out) {
        return (input == null || input.canEverFit(in)) && (output == null || output.canEverFit(out))
                && (tokens == null || tokens.canEverFit(in + out));
    }

    private boolean fits(long in, long out) {
        return (requests == null || requests.fits(1)) && (input == null || input.fits(in))
                && (output == null || output.fits(out)) && (tokens == null || tokens.fits(in + out));
    }

    private long nanosUntil(long in, long out) {
        long n = 0;
        n = Math.max(n, requests == null ? 0 : requests.nanosUntil(1));
        n = Math.max(n, input == null ? 0 : input.nanosUntil(in));
        n = Math.max(n, output == null ? 0 : output.nanosUntil(out));
        n = Math.max(n, tokens == null ? 0 : tokens.nanosUntil(in + out));
        return n;
    }

    private List<Runnable> dispatch(long now) {
        List<Runnable> done = new ArrayList<>(2);
        expire(now, done);
        while (waiting > 0) {
            Tenant best = null;
            for (Tenant t : tenants.values()) {
                if (!t.queue.isEmpty() && (best == null || t.queue.peek().start < best.queue.peek().start)) {
                    best = t;
                }
            }
            Waiter w = best.queue.peek();
            if (!fits(w.input, w.output)) {
                schedule(now, Math.min(now + nanosUntil(w.input, w.output), earliestDeadline()));
                break;
            }
            best.queue.poll();
            waiting--;
            take(w.input, w.output);
            virtualTime = Math.max(virtualTime, w.start);
            Permit p = new Permit(true, now - w.enqueued, 0, w.input, w.output);
            done.add(() -> w.future.complete(p));
        }
        if (waiting == 0) {
            // idle: nobody is owed anything, so what a tenant used while alone is not held against it
            for (Tenant t : tenants.values()) {
                virtualTime = Math.max(virtualTime, t.lastFinish);
            }
        }
        return done;
    }

    private void take(long in, long out) {
        if (requests != null) {
            requests.take(1);
        }
        if (input != null) {
            input.take(in);
        }
        if (output != null) {
            output.take(out);
        }
        if (tokens != null) {
            tokens.take(in + out);
        }
    }

    private void expire(long now, List<Runnable> done) {
        for (Tenant t : tenants.values()) {
            t.queue.removeIf(w -> {
                if (w.deadline > now) {
                    return false;
                }
                waiting--;
                long retry = Math.max(1, (nanosUntil(w.input, w.output) + 999_999_999L) / 1_000_000_000L);
                Permit p = new Permit(false, now - w.enqueued, retry, w.input, w.output);
                done.add(() -> w.future.complete(p));
                return true;
            });
        }
    }

    private long earliestDeadline() {
        long d = Long.MAX_VALUE;
        for (Tenant t : tenants.values()) {
            for (Waiter w : t.queue) {
                d = Math.min(d, w.deadline);
            }
        }
        return d;
    }

    private void schedule(long now, long at) {
        if (timer == null || at >= wakeUpAt && wakeUp != null && !wakeUp.isDone()) {
            return;
        }
        if (wakeUp != null) {
            wakeUp.cancel(false);
        }
        wakeUpAt = at;
        wakeUp = timer.schedule(this::poll, Math.max(0, at - now), TimeUnit.NANOSECONDS);
    }

    /** A tenant's queue and its fair-queuing finish tag. */
    private static final class Tenant {
        final int weight;
        final ArrayDeque<Waiter> queue = new ArrayDeque<>();
        double lastFinish;

        Tenant(int weight) {
            this.weight = weight;
        }
    }

    private record Waiter(double start, long input, long output, long enqueued, long deadline,
                          CompletableFuture<Permit> future) {
    }
}
