package dev.tokenbudget.bench.gateway;

import dev.tokenbudget.bench.Stats;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Streaming load: {@code concurrency} clients each opening one streamed chat completion after
 * another for a fixed time, measuring time to first byte (request sent to the first byte of the
 * event stream) and counting server-sent events; the whole stream is read, as a client would.
 */
final class StreamLoad {

    /** How long a stream may still run after the load stopped before the run fails as stalled. */
    private static final long STALL_MILLIS = 30_000;

    static final String BODY = "{\"model\":\"gpt-4o\",\"stream\":true,\"max_tokens\":256,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Write a short poem about budgets.\"}]}";

    /** What one run measured. */
    record Result(double streamsPerSecond, double eventsPerSecond, double ttfbP50Micros, double ttfbP99Micros) {
    }

    private StreamLoad() {
    }

    static Result run(String url, int concurrency, int seconds) throws InterruptedException {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("Authorization", "Bearer sk-bench")
                .POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<long[]> ttfbs = new ArrayList<>();
        long[] events = new long[concurrency];
        long[] streams = new long[concurrency];
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            int id = i;
            List<Long> mine = new ArrayList<>();
            Thread t = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        long start = System.nanoTime();
                        HttpResponse<InputStream> r = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
                        try (InputStream in = r.body()) {
                            if (r.statusCode() != 200) {
                                throw new IllegalStateException("HTTP " + r.statusCode() + ": "
                                        + new String(in.readAllBytes()));
                            }
                            events[id] += countEvents(in, start, mine);
                        }
                        streams[id]++;
                    }
                } catch (IOException | InterruptedException | RuntimeException e) {
                    failure.compareAndSet(null, e);
                    stop.set(true);
                }
                long[] l = mine.stream().mapToLong(Long::longValue).toArray();
                synchronized (ttfbs) {
                    ttfbs.add(l);
                }
            });
            t.setDaemon(true); // a stream that never ends must not keep the bench alive
            threads.add(t);
        }
        long begin = System.nanoTime();
        threads.forEach(Thread::start);
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        int stalled = 0;
        for (Thread t : threads) {
            t.join(STALL_MILLIS);
            stalled += t.isAlive() ? 1 : 0;
        }
        if (stalled > 0) {
            throw new IllegalStateException(stalled + " stream(s) on " + url + " still open " + STALL_MILLIS / 1000
                    + " s after the run ended: a response the gateway never finished");
        }
        double elapsed = (System.nanoTime() - begin) / 1e9;
        if (failure.get() != null) {
            throw new IllegalStateException("stream load failed on " + url, failure.get());
        }
        long[] all = Stats.merged(ttfbs);
        long s = 0;
        long e = 0;
        for (int i = 0; i < concurrency; i++) {
            s += streams[i];
            e += events[i];
        }
        return new Result(s / elapsed, e / elapsed, Stats.percentile(all, 50) / 1e3, Stats.percentile(all, 99) / 1e3);
    }

    /** Reads a whole event stream, noting when its first byte came; returns the number of events. */
    private static long countEvents(InputStream in, long start, List<Long> ttfb) throws IOException {
        byte[] buf = new byte[8192];
        long n = 0;
        boolean first = true;
        int prev = 0;
        int read;
        while ((read = in.read(buf)) > 0) {
            if (first) {
                ttfb.add(System.nanoTime() - start);
                first = false;
            }
            for (int i = 0; i < read; i++) {
                // an event ends with a blank line
                if (buf[i] == '\n' && prev == '\n') {
                    n++;
                }
                if (buf[i] != '\r') {
                    prev = buf[i];
                }
            }
        }
        return n;
    }
}
