package dev.tokenbudget.reliability;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * One client thread sending chat requests through the gateway back to back until stopped, each
 * with a unique id (in the prompt, and as its output ceiling {@code 1000 + id}, so that a lease
 * charged on expiry names its request), recording every outcome.
 */
final class LoadWorker implements Runnable {

    /** One request and what the client got back. */
    record Outcome(int id, String key, boolean stream, long maxTokens, String requestBody, Http.Response response,
                   String phase) {

        /** Counted by the engine: admitted responses carry the remaining tokens only when reserved. */
        boolean counted() {
            return response.status() == 200 && response.header("x-tokenbudget-remaining-tokens") != null;
        }

        /** Admitted uncounted because the store failed and the path fails open. */
        boolean failedOpen() {
            return response.status() == 200 && response.header("x-tokenbudget-remaining-tokens") == null;
        }
    }

    static final AtomicInteger IDS = new AtomicInteger();

    private final String url;
    private final String key;
    private final boolean stream;
    private final Supplier<String> phase;
    private final Queue<Outcome> outcomes;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private volatile int current = -1;
    private volatile Throwable failure;

    LoadWorker(String url, String key, boolean stream, Supplier<String> phase, Queue<Outcome> outcomes) {
        this.url = url;
        this.key = key;
        this.stream = stream;
        this.phase = phase;
        this.outcomes = outcomes;
        this.thread = new Thread(this, "load-" + key + (stream ? "-stream" : "-json"));
    }

    static Queue<Outcome> queue() {
        return new ConcurrentLinkedQueue<>();
    }

    LoadWorker start() {
        thread.start();
        return this;
    }

    /** The id of the request in flight, or -1. */
    int current() {
        return current;
    }

    @Override
    public void run() {
        try {
            while (running.get()) {
                int id = IDS.incrementAndGet();
                long maxTokens = 1000 + id;
                String body = Http.chat(String.format("req-%06d", id), maxTokens, stream);
                current = id;
                Http.Response r = Http.post(url + "/v1/chat/completions", body, "Authorization", "Bearer " + key);
                current = -1;
                outcomes.add(new Outcome(id, key, stream, maxTokens, body, r, phase.get()));
            }
        } catch (Throwable e) {
            failure = e;
        }
    }

    void stop() throws InterruptedException {
        running.set(false);
        thread.join(120_000);
        if (failure != null) {
            throw new AssertionError(thread.getName() + " failed", failure);
        }
    }
}
