package dev.tokenbudget.alert;

/** The outcome of one delivery attempt. */
public enum SinkResult {
    /** Delivered (or deliberately skipped: the sink does not send this kind). */
    SUCCESS,
    /** Failed in a way that may pass later (timeout, connection refused, HTTP 429 or 5xx): retry with backoff. */
    RETRY,
    /** Failed for good (HTTP 4xx, a bad address): retrying would fail again. */
    FAILED;

    /** The worse of two results. */
    public SinkResult and(SinkResult other) {
        return ordinal() >= other.ordinal() ? this : other;
    }
}
