package dev.tokenbudget.bench.gateway;

import dev.tokenbudget.bench.engine.EngineDecision;
import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.estimate.TokenizerEstimator;
import dev.tokenbudget.gateway.BudgetGateway;
import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.GatewayOptions;
import dev.tokenbudget.gateway.Identified;
import dev.tokenbudget.gateway.RequestView;
import dev.tokenbudget.gateway.ResponseMeter;
import dev.tokenbudget.provider.BodyBytes;
import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.Provider;
import dev.tokenbudget.provider.ProviderCodec;
import dev.tokenbudget.provider.RequestScan;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/**
 * Not a test: {@link GatewayPathCost}'s {@code request} or {@code stream} in a plain loop, printing per
 * round the bytes the thread allocated per request (exact: the JVM counts them, load does not move
 * them) and the thread's CPU time per request (less moved by load than wall time, still moved);
 * {@code steps} prints the bytes of each step of a JSON request instead, and of the request scan and
 * the estimate on their own.
 *
 * <pre>java -cp "$CP" dev.tokenbudget.bench.gateway.GatewayPathLoop request|stream|steps 100000 8</pre>
 */
public final class GatewayPathLoop {

    private GatewayPathLoop() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("steps")) {
            steps(args.length > 1 ? Integer.parseInt(args[1]) : 100_000, args.length > 2 ? Integer.parseInt(args[2]) : 4);
            return;
        }
        boolean stream = args.length > 0 && args[0].equals("stream");
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        GatewayPathCost path = new GatewayPathCost();
        path.setUp();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().getId();
        for (int r = 0; r < rounds; r++) {
            long bytes = threads.getThreadAllocatedBytes(self);
            long cpu = threads.getCurrentThreadCpuTime();
            Object last = null;
            for (int i = 0; i < n; i++) {
                last = stream ? path.stream() : path.request();
            }
            long allocated = threads.getThreadAllocatedBytes(self) - bytes;
            long used = threads.getCurrentThreadCpuTime() - cpu;
            System.out.printf("%s round %d: %d B/op, %.2f us cpu/op (%s)%n", stream ? "stream" : "request", r,
                    allocated / n, used / 1e3 / n, last);
        }
        path.tearDown();
    }

    private static void steps(int n, int rounds) {
        BudgetEngine engine = BudgetEngine.inMemory(ConfigLoader.parse(EngineDecision.CONFIG));
        BudgetGateway gateway = new BudgetGateway(engine, GatewayOptions.ofDefaults());
        Map<String, String> headers = GatewayPathCost.HEADERS;
        RequestView view = GatewayPathCost.VIEW;
        ByteBuffer body = GatewayPathCost.offHeap(GatewayBench.JSON_BODY);
        ProviderCodec codec = ProviderCodec.of(Family.OPENAI);
        TokenizerEstimator estimator = TokenizerEstimator.shared();
        com.sun.management.ThreadMXBean t = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().getId();
        String[] names = {"identify", "admit", "response headers", "meter", "settle", "(scan alone)", "(estimate alone)"};
        for (int r = 0; r < rounds; r++) {
            long[] sum = new long[names.length];
            for (int i = 0; i < n; i++) {
                long t0 = t.getThreadAllocatedBytes(self);
                Identified id = (Identified) gateway.identify(view, Provider.OPENAI);
                long t1 = t.getThreadAllocatedBytes(self);
                Forward f = (Forward) gateway.admitAsync(id, BodyBytes.of(List.of(body))).toCompletableFuture().join();
                long t2 = t.getThreadAllocatedBytes(self);
                ResponseMeter m = f.meter();
                m.onResponseHeaders(200, "application/json", headers::get);
                long t3 = t.getThreadAllocatedBytes(self);
                m.onBytes(GatewayPathCost.ANSWER, 0, GatewayPathCost.ANSWER.length);
                long t4 = t.getThreadAllocatedBytes(self);
                m.complete();
                long t5 = t.getThreadAllocatedBytes(self);
                RequestScan.Result read = RequestScan.read(codec, Endpoint.CHAT_COMPLETIONS, BodyBytes.of(List.of(body)));
                long t6 = t.getThreadAllocatedBytes(self);
                estimator.inputTokens(Family.OPENAI, "gpt-4o", read.facts().prompt());
                long t7 = t.getThreadAllocatedBytes(self);
                long[] at = {t0, t1, t2, t3, t4, t5, t6, t7};
                for (int k = 0; k < names.length; k++) {
                    sum[k] += at[k + 1] - at[k];
                }
            }
            StringBuilder line = new StringBuilder("steps round " + r + ", bytes per request:");
            for (int k = 0; k < names.length; k++) {
                line.append(' ').append(names[k]).append(' ').append(sum[k] / n).append(k + 1 < names.length ? ";" : "");
            }
            System.out.println(line);
        }
        engine.close();
    }
}
