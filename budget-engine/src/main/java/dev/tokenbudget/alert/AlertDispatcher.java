package dev.tokenbudget.alert;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Delivers alerts off the caller's thread: each sink has its own lane (a bounded queue and a
 * worker thread), so one slow or broken sink never delays the caller or another sink. A failed
 * attempt that may pass later is retried with exponential backoff and jitter, up to a number of
 * attempts. When a lane's queue is full the alert is dropped for that sink and counted; the
 * counts are in {@link #stats()}. {@link #publish} never blocks.
 */
public final class AlertDispatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AlertDispatcher.class);

    private final List<Lane> lanes;
    private volatile boolean shutdown;

    private AlertDispatcher(Builder b) {
        List<Lane> ls = new ArrayList<>();
        for (AlertSink s : b.sinks) {
            ls.add(new Lane(s, b));
        }
        this.lanes = List.copyOf(ls);
        lanes.forEach(Lane::start);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder with the defaults of docs/alerts.md. */
    public static final class Builder {
        private final List<AlertSink> sinks = new ArrayList<>();
        private int queueSize = 1000;
        private int maxAttempts = 6;
        private Duration initialBackoff = Duration.ofSeconds(1);
        private Duration maxBackoff = Duration.ofMinutes(5);

        private Builder() {
        }

        public Builder sink(AlertSink s) {
            sinks.add(Objects.requireNonNull(s, "sink"));
            return this;
        }

        public Builder sinks(List<AlertSink> ss) {
            ss.forEach(this::sink);
            return this;
        }

        /** Alerts waiting per sink before new ones are dropped. */
        public Builder queueSize(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("queue size must be >= 1, was " + n);
            }
            this.queueSize = n;
            return this;
        }

        /** Attempts per alert and sink, the first included. */
        public Builder maxAttempts(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("max attempts must be >= 1, was " + n);
            }
            this.maxAttempts = n;
            return this;
        }

        /** Backoff before the second attempt; it doubles per attempt up to {@code max}, with jitter. */
        public Builder backoff(Duration initial, Duration max) {
            if (initial.isNegative() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("backoff needs 0 <= initial <= max, was " + initial + ", " + max);
            }
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        public AlertDispatcher build() {
            return new AlertDispatcher(this);
        }
    }

    /** Delivery counts of one sink. */
    public record SinkStats(String sink, long delivered, long failed, long dropped, long retries, int queued) {
    }

    /** Queues {@code alert} for every sink; never blocks. Returns how many sinks accepted it. */
    public int publish(Alert alert) {
        Objects.requireNonNull(alert, "alert");
        int accepted = 0;
        for (Lane l : lanes) {
            accepted += l.offer(alert) ? 1 : 0;
        }
        return accepted;
    }

    public List<SinkStats> stats() {
        return lanes.stream().map(Lane::stats).toList();
    }

    /** Alerts dropped across all sinks (queue full, or published after shutdown). */
    public long dropped() {
        return lanes.stream().mapToLong(l -> l.dropped.get()).sum();
    }

    /** Waits until every queued alert is delivered or given up, at most {@code timeout}; true if all are. */
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Lane l : lanes) {
            if (!l.awaitIdle(deadline)) {
                return false;
            }
        }
        return true;
    }

    /** Stops accepting alerts, drains for up to {@code timeout}, then stops the lanes and shuts the sinks down. */
    public void shutdown(Duration timeout) {
        shutdown = true;
        try {
            flush(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Lane l : lanes) {
            l.stop();
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(5));
    }

    /** One sink's queue and worker. */
    private final class Lane implements Runnable {
        private final AlertSink sink;
        private final ArrayBlockingQueue<Alert> queue;
        private final int maxAttempts;
        private final long initialMs;
        private final long maxMs;
        private final AtomicInteger pending = new AtomicInteger();
        private final AtomicLong delivered = new AtomicLong();
        private final AtomicLong failed = new AtomicLong();
        private final AtomicLong dropped = new AtomicLong();
        private final AtomicLong retries = new AtomicLong();
        private final Thread thread;
        private volatile boolean stopped;

        Lane(AlertSink sink, Builder b) {
            this.sink = sink;
            this.queue = new ArrayBlockingQueue<>(b.queueSize);
            this.maxAttempts = b.maxAttempts;
            this.initialMs = b.initialBackoff.toMillis();
            this.maxMs = b.maxBackoff.toMillis();
            this.thread = new Thread(this, "tokenbudget-alerts-" + sink.name());
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        boolean offer(Alert a) {
            pending.incrementAndGet();
            if (shutdown || !queue.offer(a)) {
                done();
                long n = dropped.incrementAndGet();
                if (Long.bitCount(n) == 1) { // 1, 2, 4, 8...: visible without flooding the log
                    LOG.warn("alert sink {}: queue full, {} alert(s) dropped so far", sink.name(), n);
                }
                return false;
            }
            return true;
        }

        SinkStats stats() {
            return new SinkStats(sink.name(), delivered.get(), failed.get(), dropped.get(), retries.get(),
                    queue.size());
        }

        @Override
        public void run() {
            while (!stopped) {
                Alert a;
                try {
                    a = queue.poll(200, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    break;
                }
                if (a != null) {
                    try {
                        deliver(a);
                    } finally {
                        done();
                    }
                }
            }
            // what is left after a stop is given up, and counted
            for (Alert a; (a = queue.poll()) != null; done()) {
                failed.incrementAndGet();
            }
        }

        private void deliver(Alert a) {
            for (int attempt = 1; ; attempt++) {
                SinkResult r;
                try {
                    r = sink.export(a);
                } catch (RuntimeException e) {
                    LOG.warn("alert sink {} threw {} on alert {}", sink.name(), e.getClass().getSimpleName(), a.id());
                    r = SinkResult.RETRY;
                }
                if (r == SinkResult.SUCCESS) {
                    delivered.incrementAndGet();
                    return;
                }
                if (r == SinkResult.FAILED || attempt >= maxAttempts || stopped) {
                    failed.incrementAndGet();
                    LOG.warn("alert sink {}: gave up on alert {} after {} attempt(s)", sink.name(), a.id(), attempt);
                    return;
                }
                retries.incrementAndGet();
                try {
                    Thread.sleep(backoffMs(attempt));
                } catch (InterruptedException e) {
                    failed.incrementAndGet();
                    stopped = true;
                    return;
                }
            }
        }

        /** Exponential backoff with "equal jitter": half the delay fixed, half random. */
        private long backoffMs(int attempt) {
            long d = Math.min(maxMs, initialMs << Math.min(30, attempt - 1));
            return d / 2 + (d > 1 ? ThreadLocalRandom.current().nextLong(d / 2 + 1) : 0);
        }

        private void done() {
            if (pending.decrementAndGet() == 0) {
                synchronized (this) {
                    notifyAll();
                }
            }
        }

        synchronized boolean awaitIdle(long deadline) throws InterruptedException {
            while (pending.get() > 0) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                wait(left);
            }
            return true;
        }

        void stop() {
            stopped = true;
            thread.interrupt();
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                sink.shutdown();
            } catch (RuntimeException e) {
                LOG.warn("alert sink {} failed to shut down: {}", sink.name(), e.getClass().getSimpleName());
            }
        }
    }
}
