package dev.tokenbudget.engine;

import dev.tokenbudget.config.ConfigLoader;
import dev.tokenbudget.config.EngineConfig;
import dev.tokenbudget.event.BudgetEvent;
import dev.tokenbudget.identity.KeyHash;
import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.memory.InMemoryBudgetStore;
import dev.tokenbudget.time.ManualClock;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** An engine on a manual clock with its events recorded; configs are YAML, as users write them. */
public final class EngineFixture {

    public static final Instant START = Instant.parse("2026-11-02T09:00:00Z");

    public final ManualClock clock = new ManualClock(START);
    public final List<BudgetEvent> events = new CopyOnWriteArrayList<>();
    public final BudgetEngine engine;

    public EngineFixture(String yaml) {
        this(yaml, new InMemoryBudgetStore());
    }

    public EngineFixture(String yaml, BudgetStore store) {
        EngineConfig config = ConfigLoader.parse(yaml);
        engine = BudgetEngine.builder(config).store(store).clock(clock).build();
        engine.subscribe(events::add);
    }

    /** The YAML line for a key whose secret is {@code secret}. */
    public static String sha(String secret) {
        return KeyHash.of(secret);
    }

    public VirtualKey key(String secret) {
        return engine.authenticate(secret).orElseThrow();
    }

    public Ticket reserve(String secret, String feature, long in, long out) {
        return engine.reserve(new BudgetRequest(key(secret), feature, null, "gpt-4.1", in, out));
    }

    public <T extends BudgetEvent> List<T> events(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    public long usedTotal(String budgetId) {
        return engine.status(budgetId).orElseThrow().windows().get(0).used().total();
    }

    public long reservedTotal(String budgetId) {
        return engine.status(budgetId).orElseThrow().windows().get(0).reserved().total();
    }
}
