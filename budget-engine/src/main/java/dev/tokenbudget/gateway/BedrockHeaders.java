package dev.tokenbudget.gateway;

import dev.tokenbudget.provider.UsageReport;
import dev.tokenbudget.usage.TokenUsage;

import java.util.function.Function;

/**
 * Bedrock's InvokeModel token-count response headers ({@code X-Amzn-Bedrock-Input-Token-Count},
 * {@code -Output-Token-Count}, and with prompt caching {@code -Cache-Read-Input-Token-Count} and
 * {@code -Cache-Write-Input-Token-Count}), sent for every model: the usage of a body whose own
 * format the engine does not read (Llama, Titan, Mistral...). Input follows docs/usage.md: cache
 * reads and writes added in.
 */
final class BedrockHeaders {

    private static final String P = "x-amzn-bedrock-";

    private BedrockHeaders() {
    }

    /** The usage the headers give, or null when they give no complete, valid pair. */
    static UsageReport usage(Function<String, String> headers) {
        Long in = count(headers.apply(P + "input-token-count"));
        Long out = count(headers.apply(P + "output-token-count"));
        if (in == null || out == null) {
            return null;
        }
        Long read = count(headers.apply(P + "cache-read-input-token-count"));
        Long write = count(headers.apply(P + "cache-write-input-token-count"));
        long input = in + (read == null ? 0 : read) + (write == null ? 0 : write);
        if (input > TokenUsage.MAX || input + out > TokenUsage.MAX) {
            return null;
        }
        return new UsageReport(null, input, out, read, null, true, null, null);
    }

    private static Long count(String v) {
        if (v == null) {
            return null;
        }
        try {
            long n = Long.parseLong(v.trim());
            return n < 0 || n > TokenUsage.MAX ? null : n;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
