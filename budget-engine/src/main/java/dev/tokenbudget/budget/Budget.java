package dev.tokenbudget.budget;

import dev.tokenbudget.allocation.AllocationSpec;
import dev.tokenbudget.allocation.Overflow;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One budget of the tree: its windows and limits, thresholds with their policies, how it
 * degrades, and what it does when the store fails. Immutable; build with {@link #builder(String)}.
 */
public final class Budget {

    /** 75 alert, 90 alert, 100 hard stop: PRODUCT.md's defaults. */
    public static final List<Threshold> DEFAULT_THRESHOLDS = List.of(
            new Threshold(75, Policy.ALERT_ONLY),
            new Threshold(90, Policy.ALERT_ONLY),
            new Threshold(100, Policy.HARD_STOP));

    private final String id;
    private final String parent;
    private final List<WindowLimit> windows;
    private final List<Threshold> thresholds;
    private final DegradeSpec degrade;
    private final FailMode failMode;
    private final int hardStopPercent;
    private final AllocationSpec allocation;
    private final Overflow overflow;

    private Budget(Builder b) {
        this.id = Objects.requireNonNull(b.id, "id");
        this.parent = b.parent;
        this.windows = List.copyOf(b.windows);
        List<Threshold> t = new ArrayList<>(b.thresholds == null ? DEFAULT_THRESHOLDS : b.thresholds);
        Collections.sort(t);
        this.thresholds = List.copyOf(t);
        this.degrade = b.degrade == null ? DegradeSpec.NONE : b.degrade;
        this.failMode = b.failMode == null ? FailMode.OPEN : b.failMode;
        this.hardStopPercent = thresholds.stream().filter(x -> x.policy() == Policy.HARD_STOP)
                .mapToInt(Threshold::percent).min().orElse(-1);
        this.allocation = b.allocation;
        this.overflow = b.overflow == null ? Overflow.ISOLATED : b.overflow;
    }

    public static Builder builder(String id) {
        return new Builder(id);
    }

    public Builder toBuilder() {
        return new Builder(id).parent(parent).windows(windows).thresholds(thresholds).degrade(degrade)
                .failMode(failMode).allocation(allocation).overflow(overflow);
    }

    public String id() {
        return id;
    }

    /** Parent budget id, empty at a root. */
    public Optional<String> parent() {
        return Optional.ofNullable(parent);
    }

    public List<WindowLimit> windows() {
        return windows;
    }

    /** Thresholds in ascending order of percent. */
    public List<Threshold> thresholds() {
        return thresholds;
    }

    public DegradeSpec degrade() {
        return degrade;
    }

    public FailMode failMode() {
        return failMode;
    }

    /** How this budget allots its windows to its children ({@code allocation:}), if it says. */
    public Optional<AllocationSpec> allocation() {
        return Optional.ofNullable(allocation);
    }

    /** Whether this budget may draw from its parent's overflow pool; {@link Overflow#ISOLATED} by default. */
    public Overflow overflow() {
        return overflow;
    }

    /** The lowest threshold with a hard stop, or -1 when the budget never rejects (soft). */
    public int hardStopPercent() {
        return hardStopPercent;
    }

    /** The policy in force at a utilisation (percent, may exceed 100), or empty below all thresholds. */
    public Optional<Threshold> thresholdAt(double utilisationPercent) {
        Threshold found = null;
        for (Threshold t : thresholds) {
            if (utilisationPercent >= t.percent()) {
                found = t;
            }
        }
        return Optional.ofNullable(found);
    }

    /** Builder for {@link Budget}. */
    public static final class Builder {
        private final String id;
        private String parent;
        private List<WindowLimit> windows = new ArrayList<>();
        private List<Threshold> thresholds;
        private DegradeSpec degrade;
        private FailMode failMode;
        private AllocationSpec allocation;
        private Overflow overflow;

        private Builder(String id) {
            this.id = id;
        }

        public Builder parent(String parentId) {
            this.parent = parentId;
            return this;
        }

        public Builder window(WindowLimit w) {
            this.windows.add(w);
            return this;
        }

        public Builder windows(List<WindowLimit> ws) {
            this.windows = new ArrayList<>(ws);
            return this;
        }

        public Builder thresholds(List<Threshold> ts) {
            this.thresholds = ts == null ? null : new ArrayList<>(ts);
            return this;
        }

        public Builder degrade(DegradeSpec d) {
            this.degrade = d;
            return this;
        }

        public Builder failMode(FailMode f) {
            this.failMode = f;
            return this;
        }

        public Builder allocation(AllocationSpec a) {
            this.allocation = a;
            return this;
        }

        public Builder overflow(Overflow o) {
            this.overflow = o;
            return this;
        }

        public Budget build() {
            return new Budget(this);
        }
    }

    @Override
    public String toString() {
        return "Budget[" + id + (parent == null ? "" : " < " + parent) + "]";
    }
}
