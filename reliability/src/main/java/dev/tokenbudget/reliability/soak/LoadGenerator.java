package dev.tokenbudget.reliability.soak;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Client threads sending requests through the gateway back to back until stopped: OpenAI chat
 * and Anthropic messages, plain JSON and streamed, over a set of virtual keys (one of them with
 * per-user budgets, one with a small hard-stop budget), each response read to its end and
 * checked for its last event. Counts outcomes by kind and status, and latencies.
 */
final class LoadGenerator {

    /** One virtual key: the secret, and whether its requests name an end user. */
    record Key(String secret, boolean users) {
    }

    private static final String[] KINDS = {"openai-json", "openai-stream", "anthropic-json", "anthropic-stream"};
    private static final String[] WORDS = {"budget", "token", "forecast", "window", "tenant", "feature", "limit",
            "usage", "month", "alert", "route", "model", "reserve", "settle", "lease", "burn-down"};

    private final String gateway;
    private final List<Key> keys;
    private final int users;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong sequence = new AtomicLong();
    private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
    private final LongAdder incomplete = new LongAdder();
    private final Latencies latencies = new Latencies();
    private final List<Thread> threads = new ArrayList<>();

    LoadGenerator(String gateway, List<Key> keys, int users) {
        this.gateway = gateway;
        this.keys = List.copyOf(keys);
        this.users = users;
    }

    LoadGenerator start(int concurrency) {
        for (int i = 0; i < concurrency; i++) {
            Thread t = new Thread(this::run, "soak-client-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        return this;
    }

    /** Stops sending and waits for the requests in flight to end. */
    void stop() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(180_000);
        }
    }

    private void run() {
        while (running.get()) {
            long n = sequence.incrementAndGet();
            String kind = KINDS[(int) (n % KINDS.length)];
            Key key = keys.get((int) ((n / KINDS.length) % keys.size()));
            long t0 = System.nanoTime();
            String outcome;
            try {
                HttpResponse<String> r = client.send(request(n, kind, key), HttpResponse.BodyHandlers.ofString());
                outcome = kind + " " + r.statusCode();
                if (r.statusCode() == 200 && kind.endsWith("stream") && !r.body().contains(
                        kind.startsWith("openai") ? "data: [DONE]" : "event: message_stop")) {
                    incomplete.increment();
                }
            } catch (IOException e) {
                outcome = kind + " " + e.getClass().getSimpleName();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            latencies.add(System.nanoTime() - t0);
            outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
        }
    }

    private HttpRequest request(long n, String kind, Key key) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        StringBuilder prompt = new StringBuilder("Request ").append(n).append(':');
        for (int i = rnd.nextInt(4, 40); i > 0; i--) {
            prompt.append(' ').append(WORDS[rnd.nextInt(WORDS.length)]);
        }
        boolean stream = kind.endsWith("stream");
        boolean anthropic = kind.startsWith("anthropic");
        String body = "{\"model\":\"" + (anthropic ? "claude-sonnet-4-5" : "gpt-4o") + "\",\"max_tokens\":"
                + rnd.nextInt(16, 257) + ",\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\""
                + prompt + "\"}]}";
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gateway + (anthropic ? "/v1/messages"
                        : "/v1/chat/completions"))).timeout(Duration.ofMinutes(2))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (anthropic) {
            b.header("x-api-key", key.secret()).header("anthropic-version", "2023-06-01");
        } else {
            b.header("Authorization", "Bearer " + key.secret());
        }
        if (key.users()) {
            b.header("x-tokenbudget-user", "user-" + (n % users));
        }
        return b.build();
    }

    /** Requests sent so far. */
    long sent() {
        return latencies.count();
    }

    /** {@code "<kind> <status or exception>"} to count, sorted. */
    Map<String, Long> outcomes() {
        Map<String, Long> m = new TreeMap<>();
        outcomes.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    /** Streams answered 200 whose body lacked its final event. */
    long incompleteStreams() {
        return incomplete.sum();
    }

    Latencies latencies() {
        return latencies;
    }
}
