package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Limits;

import java.time.Instant;
import java.util.Objects;

/**
 * A hold to make at run time ({@link Reservations#create}): tokens of {@code budget}'s calendar
 * window kept from every request not charged to {@code forBudget} (or from every request, without
 * one) until {@code until}.
 *
 * @param budget     the budget whose tokens are held
 * @param window     the name of its calendar window, or null for its only one
 * @param forBudget  a direct child to hold them for, or null (held for later: free for all at {@code until})
 * @param tokens     tokens held per dimension
 * @param until      when the hold ends, at most the end of the current window; null for that end
 * @param id         the hold's id, or null for a generated one
 * @param actor      who makes it (for the ledger)
 * @param reason     why (for the ledger)
 */
public record HoldRequest(String budget, String window, String forBudget, Limits tokens, Instant until, String id,
                          String actor, String reason) {

    public HoldRequest {
        Objects.requireNonNull(budget, "budget");
        Objects.requireNonNull(tokens, "tokens");
        actor = actor == null || actor.isBlank() ? "api" : actor;
        reason = reason == null ? "" : reason;
    }

    /** {@code tokens} of {@code budget} held for its child {@code child} until the window ends. */
    public static HoldRequest forChild(String budget, String child, Limits tokens) {
        return new HoldRequest(budget, null, child, tokens, null, null, null, null);
    }

    /** {@code tokens} of {@code budget} kept from every request until {@code until}. */
    public static HoldRequest until(String budget, Limits tokens, Instant until) {
        return new HoldRequest(budget, null, null, tokens, until, null, null, null);
    }

    public HoldRequest window(String name) {
        return new HoldRequest(budget, name, forBudget, tokens, until, id, actor, reason);
    }

    public HoldRequest until(Instant when) {
        return new HoldRequest(budget, window, forBudget, tokens, when, id, actor, reason);
    }

    public HoldRequest id(String holdId) {
        return new HoldRequest(budget, window, forBudget, tokens, until, holdId, actor, reason);
    }

    public HoldRequest by(String who, String why) {
        return new HoldRequest(budget, window, forBudget, tokens, until, id, who, why);
    }
}
