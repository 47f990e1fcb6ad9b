package dev.tokenbudget.provider;

/** The API operations whose requests and responses tokenbudget understands. */
public enum Endpoint {
    /** OpenAI {@code /v1/chat/completions} (also Azure and compatible servers). */
    CHAT_COMPLETIONS(Family.OPENAI, true),
    /** OpenAI's legacy {@code /v1/completions}; its usage has the chat shape. */
    COMPLETIONS(Family.OPENAI, true),
    /** OpenAI {@code /v1/responses}. */
    RESPONSES(Family.OPENAI, true),
    /** OpenAI {@code /v1/embeddings}: input tokens only. */
    EMBEDDINGS(Family.OPENAI, false),
    /** Anthropic {@code /v1/messages}. */
    MESSAGES(Family.ANTHROPIC, true),
    /** Gemini {@code models/{model}:generateContent}. */
    GENERATE_CONTENT(Family.GEMINI, true),
    /** Gemini {@code models/{model}:streamGenerateContent} (SSE with {@code alt=sse}, else a JSON array). */
    STREAM_GENERATE_CONTENT(Family.GEMINI, true),
    /** Bedrock {@code /model/{modelId}/converse}. */
    CONVERSE(Family.BEDROCK, true),
    /** Bedrock {@code /model/{modelId}/converse-stream}: an AWS event stream of Converse events. */
    CONVERSE_STREAM(Family.BEDROCK, true),
    /** Bedrock {@code /model/{modelId}/invoke}: the model's own body (Anthropic Messages for Claude). */
    INVOKE_MODEL(Family.BEDROCK, true),
    /** Bedrock {@code /model/{modelId}/invoke-with-response-stream}: {@code chunk} events wrapping the model's own events. */
    INVOKE_MODEL_STREAM(Family.BEDROCK, true),
    /** Vertex AI {@code publishers/anthropic/models/{model}:rawPredict}: Anthropic Messages, model in the path. */
    RAW_PREDICT(Family.ANTHROPIC, true),
    /** Vertex AI {@code publishers/anthropic/models/{model}:streamRawPredict}: Anthropic's SSE stream. */
    STREAM_RAW_PREDICT(Family.ANTHROPIC, true),
    /**
     * An operation that generates no tokens (model lists, token counting): authenticated and
     * forwarded, never reserved or metered.
     */
    UNMETERED(null, false);

    private final Family family;
    private final boolean generates;

    Endpoint(Family family, boolean generates) {
        this.family = family;
        this.generates = generates;
    }

    /** The family whose format this endpoint speaks, or null for {@link #UNMETERED}. */
    public Family family() {
        return family;
    }

    /** True when the operation produces output tokens (false: input only, or nothing). */
    public boolean generatesOutput() {
        return generates;
    }
}
