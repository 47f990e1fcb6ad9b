package dev.tokenbudget.fake;

/**
 * What the fake provider has served since it started (or since {@link FakeProvider#clear()}),
 * counted as each exchange ends, without keeping the exchanges: long runs (a soak test) reconcile
 * against it after {@link FakeProvider#MAX_EXCHANGES} recordings have rolled over.
 *
 * @param requests     requests received (an API path or not)
 * @param completed    responses written to their end
 * @param aborted      responses cut short (client gone, break injected)
 * @param inputTokens  input tokens of the usage the responses reported (the last count each put on the wire)
 * @param outputTokens output tokens likewise
 */
public record ProviderTally(long requests, long completed, long aborted, long inputTokens, long outputTokens) {

    public long totalTokens() {
        return inputTokens + outputTokens;
    }

    /** As JSON, for {@code GET /fake/tally}. */
    String json() {
        return "{\"requests\":" + requests + ",\"completed\":" + completed + ",\"aborted\":" + aborted
                + ",\"input_tokens\":" + inputTokens + ",\"output_tokens\":" + outputTokens + ",\"total_tokens\":"
                + totalTokens() + "}";
    }
}
