package dev.tokenbudget.store.redis;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.forecast.DailySeries;
import dev.tokenbudget.forecast.InMemoryUsageHistory;
import dev.tokenbudget.forecast.UsageHistory;
import dev.tokenbudget.store.StoreUnavailableException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Usage history in Redis, shared by every instance on it: per budget, a hash of hourly input and
 * output tokens ({@code <prefix>:hist:{<budget>}}, fields {@code <hour>:i} / {@code <hour>:o}),
 * kept 90 days. Recording never touches Redis on the caller's thread: increments are summed in
 * process and flushed once a second, one script call per budget; a flush that fails keeps its
 * increments for the next one (at most {@value #MAX_PENDING} pending buckets; beyond that they are
 * dropped and counted). Reads add what this process has not flushed yet.
 */
public final class RedisUsageHistory implements UsageHistory, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisUsageHistory.class);
    private static final long HOUR_MS = 3_600_000L;
    static final int MAX_PENDING = 100_000;
    private static final Duration RETENTION = InMemoryUsageHistory.DEFAULT_RETENTION;
    private static final String ADD = resource("tokenbudget/history_add.lua");
    private static final String READ = "return redis.call('HGETALL', KEYS[1])";

    private final RedisConnector connector;
    private final String prefix;
    private final ConcurrentHashMap<String, ConcurrentHashMap<Long, long[]>> pending = new ConcurrentHashMap<>();
    private final AtomicLong pendingBuckets = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final ScheduledExecutorService flusher;
    private volatile String addSha;

    private RedisUsageHistory(RedisConnector connector, String prefix, boolean background) {
        this.connector = connector;
        this.prefix = prefix;
        connector.onConnect(link -> addSha = link.scripting().scriptLoad(ADD));
        if (background) {
            flusher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "tokenbudget-history-flush");
                t.setDaemon(true);
                return t;
            });
            flusher.scheduleWithFixedDelay(this::flushQuietly, 1, 1, TimeUnit.SECONDS);
        } else {
            flusher = null;
        }
    }

    /** History on the Redis of {@code settings}, flushed once a second by a daemon thread. */
    public static RedisUsageHistory open(StoreSettings settings) {
        RedisUsageHistory h = new RedisUsageHistory(RedisConnector.of(settings), settings.keyPrefix(), true);
        h.connector.tryConnect();
        return h;
    }

    /** History flushed only by {@link #flush()} (tests). */
    static RedisUsageHistory manual(StoreSettings settings) {
        RedisUsageHistory h = new RedisUsageHistory(RedisConnector.of(settings), settings.keyPrefix(), false);
        h.connector.tryConnect();
        return h;
    }

    @Override
    public void record(Collection<String> budgetIds, Instant at, long input, long output) {
        if (input < 0 || output < 0) {
            throw new IllegalArgumentException("usage must be >= 0, was " + input + "/" + output);
        }
        long hour = Math.floorDiv(at.toEpochMilli(), HOUR_MS);
        for (String id : budgetIds) {
            ConcurrentHashMap<Long, long[]> hours = pending.computeIfAbsent(id, k -> new ConcurrentHashMap<>());
            hours.compute(hour, (h, v) -> {
                if (v == null) {
                    if (pendingBuckets.incrementAndGet() > MAX_PENDING) {
                        pendingBuckets.decrementAndGet();
                        dropped.incrementAndGet();
                        return null;
                    }
                    v = new long[2];
                }
                v[0] += input;
                v[1] += output;
                return v;
            });
        }
    }

    /** Hour buckets dropped because Redis was unreachable for too long. */
    public long dropped() {
        return dropped.get();
    }

    /** Writes pending increments to Redis now; what fails stays pending. */
    public void flush() {
        for (String budget : List.copyOf(pending.keySet())) {
            ConcurrentHashMap<Long, long[]> hours = pending.remove(budget);
            if (hours == null || hours.isEmpty()) {
                continue;
            }
            pendingBuckets.addAndGet(-hours.size());
            List<String> args = new ArrayList<>(2 + 2 * hours.size());
            args.add(Long.toString(RETENTION.plusDays(2).toMillis()));
            args.add(Long.toString(RETENTION.plusDays(1).toHours()));
            hours.forEach((h, v) -> {
                args.add(Long.toString(h));
                args.add(v[0] + ":" + v[1]);
            });
            try {
                eval(key(budget), args.toArray(String[]::new));
            } catch (RuntimeException e) {
                hours.forEach((h, v) -> record(List.of(budget), Instant.ofEpochMilli(h * HOUR_MS), v[0], v[1]));
                throw e;
            }
        }
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (RuntimeException e) {
            LOG.debug("usage history flush failed; retrying in a second: {}", e.toString());
        }
    }

    private String key(String budget) {
        return prefix + ":hist:{" + budget + "}";
    }

    private void eval(String key, String[] args) {
        try {
            RedisConnector.Link link = connector.link();
            try {
                link.scripting().evalsha(addSha, ScriptOutputType.INTEGER, new String[] {key}, args);
            } catch (RedisNoScriptException e) {
                addSha = link.scripting().scriptLoad(ADD);
                link.scripting().evalsha(addSha, ScriptOutputType.INTEGER, new String[] {key}, args);
            }
        } catch (RedisException e) {
            throw new StoreUnavailableException("usage history on " + connector.description() + ": "
                    + e.getMessage(), e);
        }
    }

    /** This budget's history as Redis has it plus what this process has not flushed, as hour buckets. */
    private InMemoryUsageHistory snapshot(String budget) {
        InMemoryUsageHistory h = new InMemoryUsageHistory(RETENTION);
        List<Object> flat;
        try {
            flat = connector.link().scripting().eval(READ, ScriptOutputType.MULTI, key(budget));
        } catch (RedisException e) {
            throw new StoreUnavailableException("usage history on " + connector.description() + ": "
                    + e.getMessage(), e);
        }
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            String field = String.valueOf(flat.get(i));
            int sep = field.indexOf(':');
            if (sep < 0) {
                continue;
            }
            long hour = Long.parseLong(field.substring(0, sep));
            long v = Long.parseLong(String.valueOf(flat.get(i + 1)));
            Instant at = Instant.ofEpochMilli(hour * HOUR_MS);
            if (field.endsWith(":i")) {
                h.record(List.of(budget), at, v, 0);
            } else {
                h.record(List.of(budget), at, 0, v);
            }
        }
        Map<Long, long[]> local = pending.get(budget);
        if (local != null) {
            local.forEach((hour, v) -> h.record(List.of(budget), Instant.ofEpochMilli(hour * HOUR_MS), v[0], v[1]));
        }
        return h;
    }

    @Override
    public DailySeries daily(String budgetId, Dimension dimension, ZoneId zone, LocalDate from, LocalDate to) {
        return snapshot(budgetId).daily(budgetId, dimension, zone, from, to);
    }

    @Override
    public long between(String budgetId, Dimension dimension, Instant from, Instant to) {
        return snapshot(budgetId).between(budgetId, dimension, from, to);
    }

    @Override
    public void close() {
        if (flusher != null) {
            flusher.shutdown();
        }
        flushQuietly();
        connector.close();
    }

    private static String resource(String name) {
        try (InputStream in = RedisUsageHistory.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource " + name, e);
        }
    }
}
