package dev.tokenbudget.budget;

/** What happens when a budget reaches a threshold. */
public enum Policy {
    /** Alert and let the request through unchanged. */
    ALERT_ONLY,
    /** Let the request through on a cheaper route (model map, prompt variant, output clamp). */
    DEGRADE_ROUTE,
    /** Reject with 429 and Retry-After once the request would pass the threshold. */
    HARD_STOP;

    public String configName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
