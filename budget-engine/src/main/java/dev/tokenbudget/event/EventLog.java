package dev.tokenbudget.event;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The latest budget events, numbered, in a bounded ring: what an admin API lists and a dashboard
 * shows. Subscribe it to an engine ({@code engine.subscribe(log)}); each event gets the next
 * sequence number (1, 2, 3, ...) and, once the ring is full, pushes out the oldest, which is
 * counted in {@link #evicted()}. A reader pages with {@link #after(long, int, Predicate)}: a
 * gap between the sequence it asked after and the first one returned means events were evicted
 * in between. Thread-safe; appending is a short critical section with no allocation beyond the
 * entry, so it may run on the request path.
 */
public final class EventLog implements BudgetEventListener {

    /** Default capacity: enough for a day of threshold and rejection events of a busy gateway. */
    public static final int DEFAULT_CAPACITY = 10_000;

    /** An event and its sequence number in this log. */
    public record Entry(long seq, BudgetEvent event) {
    }

    private final Entry[] ring;
    private long lastSeq;

    public EventLog() {
        this(DEFAULT_CAPACITY);
    }

    public EventLog(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("an event log needs a capacity of at least 1, was " + capacity);
        }
        this.ring = new Entry[capacity];
    }

    @Override
    public void onEvent(BudgetEvent event) {
        Objects.requireNonNull(event, "event");
        synchronized (ring) {
            lastSeq++;
            ring[(int) ((lastSeq - 1) % ring.length)] = new Entry(lastSeq, event);
        }
    }

    public int capacity() {
        return ring.length;
    }

    /** Sequence number of the newest event, 0 when none was logged. */
    public long lastSeq() {
        synchronized (ring) {
            return lastSeq;
        }
    }

    /** Sequence number of the oldest event still held (lastSeq + 1 when empty). */
    public long firstSeq() {
        synchronized (ring) {
            return Math.max(1, lastSeq - ring.length + 1);
        }
    }

    /** How many events were pushed out of the ring. */
    public long evicted() {
        synchronized (ring) {
            return Math.max(0, lastSeq - ring.length);
        }
    }

    /**
     * Up to {@code max} events numbered after {@code seq} that match {@code filter}, oldest first.
     * Pass 0 to read from the oldest held.
     */
    public List<Entry> after(long seq, int max, Predicate<? super BudgetEvent> filter) {
        if (max < 0) {
            throw new IllegalArgumentException("max must be >= 0, was " + max);
        }
        List<Entry> out = new ArrayList<>(Math.min(max, 64));
        synchronized (ring) {
            long from = Math.max(seq + 1, Math.max(1, lastSeq - ring.length + 1));
            for (long s = from; s <= lastSeq && out.size() < max; s++) {
                Entry e = ring[(int) ((s - 1) % ring.length)];
                if (filter.test(e.event())) {
                    out.add(e);
                }
            }
        }
        return out;
    }

    /** Up to {@code max} events at or after {@code since} that match {@code filter}, oldest first. */
    public List<Entry> since(Instant since, int max, Predicate<? super BudgetEvent> filter) {
        Objects.requireNonNull(since, "since");
        return after(0, max, e -> !e.at().isBefore(since) && filter.test(e));
    }

    /** The newest {@code max} events matching {@code filter}, oldest first. */
    public List<Entry> latest(int max, Predicate<? super BudgetEvent> filter) {
        if (max < 0) {
            throw new IllegalArgumentException("max must be >= 0, was " + max);
        }
        List<Entry> out = new ArrayList<>(Math.min(max, 64));
        synchronized (ring) {
            long first = Math.max(1, lastSeq - ring.length + 1);
            for (long s = lastSeq; s >= first && out.size() < max; s--) {
                Entry e = ring[(int) ((s - 1) % ring.length)];
                if (filter.test(e.event())) {
                    out.add(e);
                }
            }
        }
        java.util.Collections.reverse(out);
        return out;
    }
}
