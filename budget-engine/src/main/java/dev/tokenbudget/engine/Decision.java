package dev.tokenbudget.engine;

import dev.tokenbudget.budget.Dimension;
import dev.tokenbudget.store.BindingCause;
import dev.tokenbudget.store.TokenCounts;

import java.util.Objects;

/**
 * The engine's answer to a request: admit it as asked, admit it degraded, or reject it, with the
 * budget that decided and what it has left.
 *
 * @param outcome          ALLOW, DEGRADE or REJECT
 * @param reason           why
 * @param bindingBudget    the budget closest to its limit on the path (for REJECT: the one that
 *                         refused); null when no budget was consulted
 * @param bindingWindow    that budget's window key
 * @param dimension        the limited dimension that binds
 * @param limit            the binding limit
 * @param remaining        tokens left on the path in that dimension after this reservation
 * @param utilisation      the binding budget's utilisation after this reservation (1.0 = 100%)
 * @param resetSeconds     seconds until the binding window resets (calendar) or rolls forward
 * @param windowSeconds    the binding window's length in seconds
 * @param retryAfterSeconds for a REJECT that waiting cures, when a retry may succeed; else 0
 * @param directive        for DEGRADE, what to change; else null
 * @param message          a sentence for humans (error bodies, logs)
 * @param allocation       how cross-team allocation took part: what bound a refusal (own cap, pool,
 *                         overflow cap, a hold), and whether pool or held tokens were used;
 *                         {@link Allocation#NONE} when it took no part
 */
public record Decision(Outcome outcome, Reason reason, String bindingBudget, String bindingWindow, Dimension dimension,
                       long limit, long remaining, double utilisation, long resetSeconds, long windowSeconds,
                       long retryAfterSeconds, RouteDirective directive, String message, Allocation allocation) {

    public Decision {
        Objects.requireNonNull(allocation, "allocation");
    }

    /** A decision in which cross-team allocation took no part. */
    public Decision(Outcome outcome, Reason reason, String bindingBudget, String bindingWindow, Dimension dimension,
                    long limit, long remaining, double utilisation, long resetSeconds, long windowSeconds,
                    long retryAfterSeconds, RouteDirective directive, String message) {
        this(outcome, reason, bindingBudget, bindingWindow, dimension, limit, remaining, utilisation, resetSeconds,
                windowSeconds, retryAfterSeconds, directive, message, Allocation.NONE);
    }

    /**
     * How cross-team allocation took part in a decision (docs/allocation.md).
     *
     * @param cause       for a refusal by a budget: what bound it; null for an admission
     * @param poolBudget  the budget whose overflow pool this request drew from, or null
     * @param pooled      tokens drawn from that pool
     * @param heldBudget  the budget whose held tokens (a hold for a budget on the path) this request used, or null
     * @param held        tokens taken out of the hold
     */
    public record Allocation(BindingCause cause, String poolBudget, TokenCounts pooled, String heldBudget,
                             TokenCounts held) {

        public static final Allocation NONE = new Allocation(null, null, TokenCounts.ZERO, null, TokenCounts.ZERO);

        /** Whether the request drew from an overflow pool. */
        public boolean usedPool() {
            return poolBudget != null;
        }

        /** Whether the request used tokens held for a budget on its path. */
        public boolean usedHold() {
            return heldBudget != null;
        }
    }

    /** What to do with the request. */
    public enum Outcome {
        ALLOW,
        DEGRADE,
        REJECT
    }

    /** Why. */
    public enum Reason {
        /** Every budget on the path has room below its degrade thresholds. */
        WITHIN_BUDGET,
        /**
         * A budget on the path is past a degrade_route threshold, or its hard stop admits the request
         * only with its degrade spec's smaller output ceiling (docs/routing.md#staged-demotion).
         */
        DEGRADE_THRESHOLD,
        /** A hard_stop budget on the path has no room for the request now; it may have later. */
        BUDGET_EXHAUSTED,
        /**
         * The request needs more than a hard_stop budget on its path admits in a whole window, even
         * empty and with any output clamp a degrade spec could apply: it can never be admitted as
         * sent, so retrying cannot help (400, no {@code Retry-After}).
         */
        REQUEST_EXCEEDS_LIMIT,
        /** The request named a feature its key may not use. */
        FEATURE_FORBIDDEN,
        /** The request itself is unusable (e.g. an invalid user id). */
        INVALID_REQUEST,
        /** The store failed and a budget on the path fails closed. */
        STORE_UNAVAILABLE,
        /** The store failed and every budget on the path fails open: admitted, not counted. */
        STORE_FAIL_OPEN;

        /**
         * The code a refusal of this reason carries, in the provider-shaped error body (OpenAI's
         * {@code error.code}) and in {@link DecisionHeaders#ERROR_CODE}: {@code token_budget_exceeded}
         * (retry after {@code Retry-After}), {@code request_exceeds_budget_limit} (never as sent), ...
         */
        public String code() {
            return switch (this) {
                case BUDGET_EXHAUSTED -> "token_budget_exceeded";
                case REQUEST_EXCEEDS_LIMIT -> "request_exceeds_budget_limit";
                case FEATURE_FORBIDDEN -> "feature_not_allowed";
                case INVALID_REQUEST -> "invalid_request";
                case STORE_UNAVAILABLE -> "budget_store_unavailable";
                default -> "token_budget_error";
            };
        }
    }

    public boolean admitted() {
        return outcome != Outcome.REJECT;
    }

    /** The HTTP status an adapter answers a REJECT with (200 for admitted requests). */
    public int httpStatus() {
        if (admitted()) {
            return 200;
        }
        return switch (reason) {
            case BUDGET_EXHAUSTED -> 429;
            case FEATURE_FORBIDDEN -> 403;
            case INVALID_REQUEST, REQUEST_EXCEEDS_LIMIT -> 400;
            case STORE_UNAVAILABLE -> 503;
            default -> 500;
        };
    }

    static Decision reject(Reason reason, String budget, String message) {
        return new Decision(Outcome.REJECT, reason, budget, null, null, 0, 0, 0, 0, 0, 0, null, message);
    }
}
