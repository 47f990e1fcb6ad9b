package dev.tokenbudget.store.redis;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.BudgetRequest;
import dev.tokenbudget.engine.Decision;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.usage.TokenUsage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many threads reserving and settling through one engine on one budget tree, tallying what they
 * admitted and settled. Run in-process by the tests, and as {@link #main} in a separate JVM.
 *
 * <p>Each admitted request is settled at most its reservation (70%), above it by 1-5 output
 * tokens (10%, the only way used may pass a cap), or released (20%); a fifth of the settled
 * leases are then settled again through {@code rival}, another store on the same Redis, which
 * must find nothing to settle.
 */
public final class StoreHammer {

    /** What one hammer run admitted and settled. */
    public record Result(long admitted, long rejected, long settledInput, long settledOutput, long excess,
                         long doubleSettles) {

        Result plus(Result o) {
            return new Result(admitted + o.admitted, rejected + o.rejected, settledInput + o.settledInput,
                    settledOutput + o.settledOutput, excess + o.excess, doubleSettles + o.doubleSettles);
        }

        String line() {
            return "HAMMER " + admitted + " " + rejected + " " + settledInput + " " + settledOutput + " " + excess + " "
                    + doubleSettles;
        }

        static Result parse(String line) {
            String[] p = line.trim().split(" ");
            return new Result(Long.parseLong(p[1]), Long.parseLong(p[2]), Long.parseLong(p[3]), Long.parseLong(p[4]),
                    Long.parseLong(p[5]), Long.parseLong(p[6]));
        }
    }

    private StoreHammer() {
    }

    public static Result run(BudgetEngine engine, BudgetStore rival, String secret, int threads, int requests,
                             long seed) throws Exception {
        VirtualKey key = engine.authenticate(secret).orElseThrow();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Result>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                SplittableRandom rnd = new SplittableRandom(seed * 1_000 + t);
                futures.add(pool.submit(() -> oneThread(engine, rival, key, requests, rnd)));
            }
            Result total = new Result(0, 0, 0, 0, 0, 0);
            for (Future<Result> f : futures) {
                total = total.plus(f.get());
            }
            return total;
        } finally {
            pool.shutdown();
        }
    }

    private static Result oneThread(BudgetEngine engine, BudgetStore rival, VirtualKey key, int requests,
                                    SplittableRandom rnd) {
        AtomicLong in = new AtomicLong();
        AtomicLong out = new AtomicLong();
        long admitted = 0;
        long rejected = 0;
        long excess = 0;
        long doubles = 0;
        for (int i = 0; i < requests; i++) {
            long ri = rnd.nextLong(1, 31);
            long ro = rnd.nextLong(1, 31);
            Ticket t = engine.reserve(new BudgetRequest(key, null, null, "m", ri, ro));
            if (t.decision().outcome() == Decision.Outcome.REJECT) {
                if (t.decision().reason() != Decision.Reason.BUDGET_EXHAUSTED) {
                    throw new IllegalStateException("unexpected decision " + t.decision());
                }
                rejected++;
                continue;
            }
            admitted++;
            int roll = rnd.nextInt(10);
            if (roll < 2) {
                check(engine.release(t), SettleResult.Status.RELEASED);
                continue;
            }
            long ai = rnd.nextLong(0, ri + 1);
            long ao = rnd.nextLong(0, ro + 1);
            if (roll == 2) {
                long extra = rnd.nextLong(1, 6);
                ao = ro + extra;
                excess += ai + ao - ri - ro > 0 ? ai + ao - ri - ro : 0;
            }
            check(engine.settle(t, TokenUsage.of(ai, ao)), SettleResult.Status.SETTLED);
            in.addAndGet(ai);
            out.addAndGet(ao);
            if (rnd.nextInt(5) == 0 && rival != null) {
                SettleResult again = rival.settle(new SettleCommand(t.treeId(), t.leaseId(),
                        engine.clock().now(), ai, ao, false));
                if (again.status() != SettleResult.Status.UNKNOWN_LEASE) {
                    doubles++;
                }
            }
        }
        return new Result(admitted, rejected, in.get(), out.get(), excess, doubles);
    }

    private static void check(SettleResult.Status actual, SettleResult.Status expected) {
        if (actual != expected) {
            throw new IllegalStateException("settle answered " + actual + ", expected " + expected);
        }
    }

    /** {@code StoreHammer CONFIG SECRET THREADS REQUESTS SEED}: prints one {@code HAMMER ...} line. */
    public static void main(String[] args) throws Exception {
        EngineConfig config = ConfigLoader.load(Path.of(args[0]));
        try (BudgetEngine engine = BudgetEngine.builder(config).build();
             BudgetStore rival = RedisBudgetStore.open(config.store())) {
            Result r = run(engine, rival, args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Long.parseLong(args[4]));
            System.out.println(r.line());
        }
    }
}
