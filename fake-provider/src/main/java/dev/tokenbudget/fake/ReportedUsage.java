package dev.tokenbudget.fake;

/**
 * The usage the fake provider put on the wire for one response, in its own format's terms mapped
 * to two numbers: input tokens (prompt) and output tokens (completion).
 */
public record ReportedUsage(long inputTokens, long outputTokens) {

    public long totalTokens() {
        return inputTokens + outputTokens;
    }
}
