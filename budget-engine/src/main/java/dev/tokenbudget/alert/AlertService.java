package dev.tokenbudget.alert;

import dev.tokenbudget.config.StoreSettings;
import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.event.BudgetEventListener;
import dev.tokenbudget.forecast.Forecaster;
import dev.tokenbudget.forecast.StatusSampler;
import dev.tokenbudget.forecast.UsageHistory;
import dev.tokenbudget.forecast.WindowForecasts;
import dev.tokenbudget.store.redis.RedisAlertClaims;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Alerts for a running engine: subscribes to its events, evaluates projections on a schedule,
 * and hands alerts to an {@link AlertDispatcher}. Everything after the event runs on the
 * service's own thread: the engine's listener only enqueues (bounded; events beyond the queue
 * are dropped and counted in {@link #droppedEvents()}), so a request never waits for a
 * forecast, a claim or a sink.
 *
 * <pre>
 *   AlertService alerts = AlertService.start(engine, new InMemoryAlertClaims(),
 *           AlertSinks.create(engine.config().alerts(), System::getenv));
 *   ...
 *   alerts.close();
 * </pre>
 */
public final class AlertService implements BudgetEventListener, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AlertService.class);
    private static final int EVENT_QUEUE = 10_000;

    private final BudgetEngine engine;
    private final AlertEvaluator evaluator;
    private final AlertDispatcher dispatcher;
    private final StatusSampler sampler;
    private final ThreadPoolExecutor worker;
    private final ScheduledExecutorService timer;
    private final AtomicLong droppedEvents = new AtomicLong();
    private final AtomicLong raised = new AtomicLong();
    private final AlertClaims claims;

    private AlertService(BudgetEngine engine, UsageHistory history, StatusSampler sampler, AlertClaims claims,
                         AlertDispatcher dispatcher) {
        this.engine = engine;
        this.claims = claims;
        AlertConfig config = engine.config().alerts();
        this.evaluator = new AlertEvaluator(engine, new WindowForecasts(new Forecaster(), history), claims, config);
        this.dispatcher = dispatcher;
        this.sampler = sampler;
        this.worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(EVENT_QUEUE),
                r -> daemon(r, "tokenbudget-alert-evaluation"), (r, ex) -> droppedEvents.incrementAndGet());
        this.timer = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "tokenbudget-alert-timer"));
        long every = config.evaluateEvery().toMillis();
        timer.scheduleWithFixedDelay(this::evaluateNow, every, every, TimeUnit.MILLISECONDS);
        engine.subscribe(this);
    }

    /**
     * Starts alerting on {@code engine} with claims where its store is: in Redis (shared by every
     * instance on it) for {@code store.type: redis}, in memory otherwise.
     */
    public static AlertService start(BudgetEngine engine, List<AlertSink> sinks) {
        return start(engine, claimsFor(engine.config().store()), sinks);
    }

    /**
     * Starts alerting as the engine's config says: its {@code alerts:} sinks (secrets from
     * {@code env}, e.g. {@code System::getenv}), claims next to its store. What every host calls.
     *
     * @throws IllegalStateException naming the sink and variable when a sink's secret is unset
     */
    public static AlertService startFromConfig(BudgetEngine engine, java.util.function.UnaryOperator<String> env) {
        return start(engine, AlertSinks.create(engine.config().alerts(), env));
    }

    /** Claims next to the store: {@link RedisAlertClaims} on the store's Redis and prefix, or in memory. */
    public static AlertClaims claimsFor(StoreSettings store) {
        return "redis".equals(store.type()) ? RedisAlertClaims.open(store) : new InMemoryAlertClaims();
    }

    /**
     * Starts alerting on {@code engine} with its config's {@code alerts:} section and an
     * the usage history the engine records next to its store.
     */
    public static AlertService start(BudgetEngine engine, AlertClaims claims, List<AlertSink> sinks) {
        AlertConfig.Delivery d = engine.config().alerts().delivery();
        AlertDispatcher dispatcher = AlertDispatcher.builder().sinks(sinks).queueSize(d.queueSize())
                .maxAttempts(d.maxAttempts()).backoff(d.initialBackoff(), d.maxBackoff()).build();
        // the engine records every settlement into the history next to its store: no sampling needed
        return new AlertService(engine, engine.history(), null, claims, dispatcher);
    }

    /** Starts alerting with a given history (fed by its owner) and dispatcher. */
    public static AlertService start(BudgetEngine engine, UsageHistory history, AlertClaims claims,
                                     AlertDispatcher dispatcher) {
        return new AlertService(engine, Objects.requireNonNull(history, "history"), null, claims, dispatcher);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void onEvent(BudgetEvent event) {
        if (event instanceof BudgetEvent.ThresholdCrossed) {
            submit(() -> publish(evaluator.onEvent(event)));
        }
    }

    /** Samples history and evaluates projections now, on the service's thread. */
    public void evaluateNow() {
        submit(() -> {
            if (sampler != null) {
                sampler.sample();
            }
            publish(evaluator.evaluate(engine.clock().now()));
        });
    }

    private void submit(Runnable task) {
        try {
            worker.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.warn("alert evaluation failed: {}", e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            droppedEvents.incrementAndGet();
        }
    }

    private void publish(List<Alert> alerts) {
        for (Alert a : alerts) {
            raised.incrementAndGet();
            LOG.info("alert {}: {}", a.id(), a.summary());
            dispatcher.publish(a);
        }
    }

    /** Events not evaluated because the service's queue was full or it was closed. */
    public long droppedEvents() {
        return droppedEvents.get();
    }

    /** Alerts raised so far. */
    public long raised() {
        return raised.get();
    }

    public AlertDispatcher dispatcher() {
        return dispatcher;
    }

    /** Waits until queued events are evaluated and their alerts delivered, at most {@code timeout}. */
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (worker.getQueue().size() + worker.getActiveCount() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return dispatcher.flush(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }

    @Override
    public void close() {
        engine.unsubscribe(this);
        timer.shutdownNow();
        worker.shutdown();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dispatcher.shutdown(Duration.ofSeconds(5));
        if (claims instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.debug("closing alert claims: {}", e.toString());
            }
        }
    }
}
