package dev.tokenbudget.budget;

/**
 * A utilisation threshold in percent of the limit (1..100; 100 is the limit itself) and the
 * policy that applies from there on.
 */
public record Threshold(int percent, Policy policy) implements Comparable<Threshold> {

    public Threshold {
        if (percent < 1 || percent > 100) {
            throw new IllegalArgumentException("threshold percent must be in 1..100, was " + percent);
        }
        java.util.Objects.requireNonNull(policy, "policy");
    }

    @Override
    public int compareTo(Threshold o) {
        return Integer.compare(percent, o.percent);
    }
}
