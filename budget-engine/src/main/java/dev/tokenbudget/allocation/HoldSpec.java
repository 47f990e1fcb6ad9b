package dev.tokenbudget.allocation;

import dev.tokenbudget.budget.Limits;

import java.time.Duration;
import java.util.Objects;

/**
 * A hold declared in the config: tokens of a budget's window set aside in every window instance,
 * either for one child ({@code forBudget}) or for the end of the window ({@code forLast}).
 *
 * <p>While a hold is in force, requests that are not charged to its beneficiary may use the
 * budget only up to its cap minus the part of the hold the beneficiary has not consumed yet
 * (a hold without a beneficiary is consumed by nobody). A hold is in force from the start of the
 * window until its end, or, with {@code forLast}, until {@code forLast} before the window ends:
 * from then on its tokens are free for everybody. See docs/allocation.md.
 *
 * @param id         unique among holds (config ids start with {@code cfg-} when not given)
 * @param window     name of the budget's calendar window the hold takes tokens from
 * @param forBudget  the direct child the tokens are held for, or null (held from everybody)
 * @param tokens     tokens held per dimension ({@link Limits#NONE}: nothing held in that dimension)
 * @param forLast    how long before the window's end the hold is released, or null (at its end)
 */
public record HoldSpec(String id, String window, String forBudget, Limits tokens, Duration forLast) {

    public HoldSpec {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(tokens, "tokens");
    }
}
