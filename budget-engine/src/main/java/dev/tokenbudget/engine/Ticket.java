package dev.tokenbudget.engine;

import dev.tokenbudget.store.Slot;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A reservation handed back by {@link BudgetEngine#reserve}: the decision, and what the engine
 * needs to settle or release it. Settle or release it exactly once; further calls are no-ops.
 * A ticket of a rejected request holds nothing and settles to nothing.
 */
public final class Ticket {

    private final String leaseId;
    private final String treeId;
    private final String keyName;
    private final String model;
    private final Decision decision;
    private final long reservedInput;
    private final long reservedOutput;
    private final long requestedOutput;
    private final boolean fitted;
    private final Instant leaseExpiresAt;
    private final List<Slot> slots;
    private final boolean accounted;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** budgetIds(), computed on first use (a benign race: every thread computes the same list). */
    private List<String> budgetIds;

    Ticket(String leaseId, String treeId, String keyName, String model, Decision decision, long reservedInput,
           long reservedOutput, long requestedOutput, boolean fitted, Instant leaseExpiresAt, List<Slot> slots,
           boolean accounted) {
        this.leaseId = leaseId;
        this.treeId = treeId;
        this.keyName = keyName;
        this.model = model;
        this.decision = decision;
        this.reservedInput = reservedInput;
        this.reservedOutput = reservedOutput;
        this.requestedOutput = requestedOutput;
        this.fitted = fitted;
        this.leaseExpiresAt = leaseExpiresAt;
        this.slots = slots;
        this.accounted = accounted;
    }

    public Decision decision() {
        return decision;
    }

    public String leaseId() {
        return leaseId;
    }

    public String treeId() {
        return treeId;
    }

    public String keyName() {
        return keyName;
    }

    /** The model the client asked for. */
    public String model() {
        return model;
    }

    public long reservedInput() {
        return reservedInput;
    }

    /**
     * The output ceiling reserved: the one the request asked for ({@link #requestedOutput}), or less
     * for a degraded request sent with less (its directive's clamp is then at most this).
     */
    public long reservedOutput() {
        return reservedOutput;
    }

    /** The output ceiling the request asked for (its {@code max_tokens}, or the configured default). */
    public long requestedOutput() {
        return requestedOutput;
    }

    /**
     * Whether the request was admitted only with a smaller output ceiling than it asked for: at its
     * own, a hard stop would have refused it.
     */
    public boolean fitted() {
        return fitted;
    }

    public Instant leaseExpiresAt() {
        return leaseExpiresAt;
    }

    /** Budget ids charged by this ticket, deepest first. */
    public List<String> budgetIds() {
        List<String> ids = budgetIds;
        if (ids == null) {
            // a plain loop: this runs on every settle, where a stream cost a quarter of the allocations
            List<String> distinct = new ArrayList<>(slots.size());
            for (Slot s : slots) {
                if (!distinct.contains(s.budgetId())) {
                    distinct.add(s.budgetId());
                }
            }
            ids = Collections.unmodifiableList(distinct);
            budgetIds = ids;
        }
        return ids;
    }

    List<Slot> slots() {
        return slots;
    }

    /** False for a rejected request or one admitted uncounted because the store failed open. */
    public boolean accounted() {
        return accounted;
    }

    /**
     * Whether the ticket holds a lease to settle or release when the response ends: true when
     * {@link #accounted()}, and also for a request admitted because the store failed open, whose
     * reservation the store may have made after all (its reply lost or late). Settling such a
     * ticket charges the actual usage if the store holds the lease, and changes nothing if not.
     */
    public boolean holdsLease() {
        return leaseId != null;
    }

    /** Marks the ticket closed; true only for the first caller. */
    boolean close() {
        return closed.compareAndSet(false, true);
    }

    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public String toString() {
        return "Ticket[" + leaseId + " " + decision.outcome() + " " + reservedInput + "/" + reservedOutput + "]";
    }
}
