package dev.tokenbudget.budget;

import dev.tokenbudget.window.WindowSpec;

/** A window of a budget and the limits that apply in it. */
public record WindowLimit(WindowSpec window, Limits limits) {

    public WindowLimit {
        java.util.Objects.requireNonNull(window, "window");
        java.util.Objects.requireNonNull(limits, "limits");
    }

    public WindowLimit withLimits(Limits newLimits) {
        return new WindowLimit(window, newLimits);
    }
}
