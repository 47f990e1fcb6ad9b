package dev.tokenbudget.gateway;

import dev.tokenbudget.provider.UsageReport;
import dev.tokenbudget.usage.TokenUsage;

/**
 * How a response's ticket was closed.
 *
 * @param outcome what was done
 * @param report  what the response said about usage
 * @param charged the usage charged (null when released, not metered, or settled at the reservation)
 */
public record MeterResult(Outcome outcome, UsageReport report, TokenUsage charged) {

    /** What a meter did with its ticket. */
    public enum Outcome {
        /** Settled with the usage the provider reported. */
        SETTLED,
        /**
         * The response stopped before its final usage (a cut stream, an error event): settled with
         * what it reported, each count raised to at least the reservation, since the provider may
         * have generated up to the ceiling.
         */
        SETTLED_PARTIAL,
        /** The response carried no usage: settled at the reservation ({@code engine.settleUnknown}). */
        SETTLED_UNKNOWN,
        /** Nothing was used: no response at all, or an upstream error status without usage. */
        RELEASED,
        /** No ticket to settle (unmetered endpoint, or admitted uncounted while the store failed open). */
        NOT_METERED
    }
}
