package dev.tokenbudget.event;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Fan-out of events to listeners, each isolated from the others' failures. Publishing through a
 * {@link Supplier} builds the event only when someone listens, so the hot path allocates nothing
 * for events nobody reads.
 */
public final class EventBus {

    private static final Logger LOG = LoggerFactory.getLogger(EventBus.class);

    private final CopyOnWriteArrayList<BudgetEventListener> listeners = new CopyOnWriteArrayList<>();

    public void subscribe(BudgetEventListener l) {
        listeners.add(l);
    }

    public void unsubscribe(BudgetEventListener l) {
        listeners.remove(l);
    }

    public boolean hasListeners() {
        return !listeners.isEmpty();
    }

    public void publish(Supplier<? extends BudgetEvent> event) {
        if (listeners.isEmpty()) {
            return;
        }
        publish(event.get());
    }

    public void publish(BudgetEvent e) {
        for (BudgetEventListener l : listeners) {
            try {
                l.onEvent(e);
            } catch (RuntimeException ex) {
                LOG.warn("event listener {} failed on {}: {}", l, e.type(), ex.toString());
            }
        }
    }
}
