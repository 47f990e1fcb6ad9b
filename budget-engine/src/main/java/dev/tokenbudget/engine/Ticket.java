package dev.tokenbudget.engine;

import dev.tokenbudget.store.Slot;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A reservation handed back by {@link BudgetEngine#reserve}: the decision, and what the engine
 * needs to settle or release it. Settle or release it exactly once; further calls are no-ops.
 * A ticket of a rejected request holds nothing and settles to nothing.
 */
public final class Ticket {

    /** The closed flag as a field of the ticket: one object less per decision than an AtomicBoolean. */
    private static final VarHandle CLOSED;

    static {
        try {
            CLOSED = MethodHandles.lookup().findVarHandle(Ticket.class, "closed", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

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
    /** 0 while open, 1 once settled or released ({@link #CLOSED} flips it once). */
    private volatile int closed;
    /** budgetIds(), computed on first use (a benign race: every thread computes the same list). */
    private List<String> budgetIds;

    /** {@code budgetIds}: the distinct budget ids of {@code slots} when known already, else null. */
    Ticket(String leaseId, String treeId, String keyName, String model, Decision decision, long reservedInput,
           long reservedOutput, long requestedOutput, boolean fitted, Instant leaseExpiresAt, List<Slot> slots,
           List<String> budgetIds, boolean accounted) {
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
        this.budgetIds = budgetIds;
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
            ids = budgetIds(slots);
            budgetIds = ids;
        }
        return ids;
    }

    /** The distinct budget ids of {@code slots}, in slot order (deepest first). */
    static List<String> budgetIds(List<Slot> slots) {
        // a plain loop: this runs once per path, where a stream cost a quarter of a settle's allocations
        List<String> distinct = new ArrayList<>(slots.size());
        for (Slot s : slots) {
            if (!distinct.contains(s.budgetId())) {
                distinct.add(s.budgetId());
            }
        }
        return Collections.unmodifiableList(distinct);
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
        return CLOSED.compareAndSet(this, 0, 1);
    }

    public boolean isClosed() {
        return closed != 0;
    }

    @Override
    public String toString() {
        return "Ticket[" + leaseId + " " + decision.outcome() + " " + reservedInput + "/" + reservedOutput + "]";
    }
}
