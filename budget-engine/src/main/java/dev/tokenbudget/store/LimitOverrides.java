package dev.tokenbudget.store;

import java.util.List;

/**
 * The limit changes a store holds: the latest one per budget window, and the version of the newest.
 *
 * @param version   the version of the newest change saved (0 when none)
 * @param overrides the latest change per budget window; empty when nothing is newer than the version asked after
 */
public record LimitOverrides(long version, List<LimitOverride> overrides) {

    public LimitOverrides {
        overrides = List.copyOf(overrides);
    }

    /** Nothing newer than {@code version}. */
    public static LimitOverrides unchanged(long version) {
        return new LimitOverrides(version, List.of());
    }
}
