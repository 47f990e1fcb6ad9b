package dev.tokenbudget.bench.gateway;

import dev.tokenbudget.bench.Stats;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Open-loop load: requests start at fixed times ({@code rate} per second, evenly spaced) whatever
 * the answers do, and each latency is measured from the time the request was <em>due</em>, not
 * from when the client got round to sending it. A gateway that stalls for 50 ms therefore shows
 * every request due in those 50 ms as late, as users would see it, instead of the client waiting
 * with it and measuring only the requests it sent (coordinated omission, as in wrk's closed
 * loop). The client sends asynchronously over as many connections as the answers need; each
 * response is read whole.
 */
final class OpenLoad {

    /** What one run measured: latency from the due time (µs) and what did not complete. */
    record Result(int sent, int failed, double p50Micros, double p90Micros, double p99Micros, double maxMicros,
                  double lateStartMicrosP99) {
    }

    private OpenLoad() {
    }

    static Result run(String url, String body, int rate, int seconds) throws InterruptedException {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("Authorization", "Bearer sk-bench")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        int n = rate * seconds;
        long[] latency = new long[n];
        long[] lateStart = new long[n];
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(n);
        long interval = 1_000_000_000L / rate;
        long begin = System.nanoTime() + 50_000_000L;
        for (int i = 0; i < n; i++) {
            long due = begin + i * interval;
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            int id = i;
            lateStart[i] = System.nanoTime() - due;
            client.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((r, e) -> {
                latency[id] = System.nanoTime() - due;
                if (e != null || r.statusCode() != 200) {
                    failed.incrementAndGet();
                    firstFailure.compareAndSet(null, e != null ? e.toString() : "HTTP " + r.statusCode() + " "
                            + new String(r.body()));
                }
                done.countDown();
            });
        }
        if (!done.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("open load on " + url + ": " + done.getCount() + " requests unanswered "
                    + "60 s after the last was due");
        }
        if (failed.get() > 0) {
            throw new IllegalStateException("open load on " + url + ": " + failed.get() + " of " + n
                    + " requests failed; first: " + firstFailure.get());
        }
        Arrays.sort(latency);
        Arrays.sort(lateStart);
        return new Result(n, failed.get(), Stats.percentile(latency, 50) / 1e3, Stats.percentile(latency, 90) / 1e3,
                Stats.percentile(latency, 99) / 1e3, latency[n - 1] / 1e3, Stats.percentile(lateStart, 99) / 1e3);
    }
}
