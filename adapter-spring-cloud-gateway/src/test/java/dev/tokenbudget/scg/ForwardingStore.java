package dev.tokenbudget.scg;

import dev.tokenbudget.store.BudgetStore;
import dev.tokenbudget.store.LeaseExpiry;
import dev.tokenbudget.store.ReserveCommand;
import dev.tokenbudget.store.ReserveResult;
import dev.tokenbudget.store.SettleCommand;
import dev.tokenbudget.store.SettleResult;
import dev.tokenbudget.store.Slot;
import dev.tokenbudget.store.SlotState;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * A store that passes every call to another, for tests that note how the filter calls it. The
 * asynchronous calls are the interface's own (through {@link #reserve} and {@link #settle}) unless
 * a test overrides them.
 */
abstract class ForwardingStore implements BudgetStore {

    final BudgetStore delegate;

    ForwardingStore(BudgetStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public Set<Capability> capabilities() {
        return delegate.capabilities();
    }

    @Override
    public ReserveResult reserve(ReserveCommand command) {
        return delegate.reserve(command);
    }

    @Override
    public SettleResult settle(SettleCommand command) {
        return delegate.settle(command);
    }

    @Override
    public List<SlotState> read(String treeId, List<Slot> slots, Instant now) {
        return delegate.read(treeId, slots, now);
    }

    @Override
    public List<LeaseExpiry> expireLeases(Instant now) {
        return delegate.expireLeases(now);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
