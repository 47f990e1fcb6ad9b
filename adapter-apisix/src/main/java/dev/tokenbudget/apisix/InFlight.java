package dev.tokenbudget.apisix;

import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Requests admitted in the pre-request phase whose response has not been metered yet, keyed by
 * the request's id (by default nginx's {@code $request_id}), which its {@code http-logger} entry
 * carries back.
 *
 * <p>Bounded: when full, {@link #put} refuses and the caller settles at once by estimate. An entry
 * whose logged response never comes (the logger's retries ran out, a route without the logger,
 * APISIX stopped) is handed to the expiry callback once its lease has run out, so none is leaked.
 *
 * @param <T> what the response phase needs to settle
 */
final class InFlight<T> {

    private record Entry<T>(T value, Instant expiresAt) {
    }

    private final Map<String, Entry<T>> entries = new ConcurrentHashMap<>();
    private final AtomicInteger size = new AtomicInteger();
    private final int capacity;

    InFlight(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
        }
        this.capacity = capacity;
    }

    /** Stores {@code value} under {@code id}; false (and nothing stored) when full or the id is taken. */
    boolean put(String id, T value, Instant expiresAt) {
        Objects.requireNonNull(id, "id");
        if (size.incrementAndGet() > capacity) {
            size.decrementAndGet();
            return false;
        }
        if (entries.putIfAbsent(id, new Entry<>(value, expiresAt)) != null) {
            size.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Removes and returns the entry for {@code id}, or null. */
    T take(String id) {
        if (id == null) {
            return null;
        }
        Entry<T> e = entries.remove(id);
        if (e == null) {
            return null;
        }
        size.decrementAndGet();
        return e.value();
    }

    /** Removes every entry whose lease ended before {@code now} and hands it to {@code expired}. */
    int expire(Instant now, Consumer<T> expired) {
        int n = 0;
        for (Iterator<Map.Entry<String, Entry<T>>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Entry<T>> e = it.next();
            if (e.getValue().expiresAt().isBefore(now) && entries.remove(e.getKey(), e.getValue())) {
                size.decrementAndGet();
                n++;
                expired.accept(e.getValue().value());
            }
        }
        return n;
    }

    /** Removes every entry, handing each to {@code drained} (at shutdown). */
    void drain(Consumer<T> drained) {
        expire(Instant.MAX, drained);
    }

    int size() {
        return size.get();
    }
}
