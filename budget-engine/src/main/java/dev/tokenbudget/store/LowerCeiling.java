package dev.tokenbudget.store;

import dev.tokenbudget.budget.Limits;

import java.util.List;
import java.util.Objects;

/**
 * A smaller output ceiling a {@link ReserveCommand} reserves instead of its own when the request
 * will be degraded with it, and the gateway then holds the request to it (a degrade spec's
 * {@code max_output_tokens}). The store reserves {@code output} when, with {@code output} counted,
 * some slot's used + reserved tokens reach that slot's line in some dimension (its budget is past
 * a degrade_route threshold, so the engine's decision degrades and clamps) and the path admits
 * that smaller request; otherwise it reserves the command's own output as usual. So an admitted
 * degraded request holds only the ceiling it is sent with, and one whose asked ceiling a cap
 * would refuse is admitted with the smaller one, in the same atomic step.
 *
 * @param output the smaller output ceiling, {@code 0 <= output <} the command's output
 * @param lines  per slot of the command (same order), per dimension the used + reserved tokens at
 *               which the slot's budget degrades; {@link Limits#NONE} where the slot has none
 */
public record LowerCeiling(long output, List<Limits> lines) {

    /** Lines of a slot that never degrades. */
    public static final Limits NO_LINE = new Limits(Limits.NONE, Limits.NONE, Limits.NONE);

    public LowerCeiling {
        lines = List.copyOf(Objects.requireNonNull(lines, "lines"));
        if (output < 0) {
            throw new IllegalArgumentException("lower output ceiling must be >= 0, was " + output);
        }
    }
}
