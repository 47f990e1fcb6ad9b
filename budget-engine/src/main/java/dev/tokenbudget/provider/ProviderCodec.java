package dev.tokenbudget.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One provider family's wire format: what a request asks for, how to rewrite it for the routing
 * loop, where the response reports usage, and what its error bodies look like. Implementations
 * are stateless and thread-safe; no method throws on any input (bad requests come back as
 * {@link RequestFacts#problem()}, bad responses as a {@link UsageReport} with a note).
 */
public interface ProviderCodec {

    Family family();

    /** Reads model, stream flag, output ceiling, choices and prompt text of a parsed request body. */
    default RequestFacts inspect(Endpoint endpoint, ObjectNode body) {
        return inspect(endpoint, body, PromptText.of(body));
    }

    /**
     * Reads model, stream flag, output ceiling and choices from {@code fields}, which holds at least
     * the fields this codec reads (a whole body, or only those fields as {@link RequestScan} collects
     * them), with the prompt already read from the whole body.
     */
    RequestFacts inspect(Endpoint endpoint, ObjectNode fields, PromptText prompt);

    /**
     * Applies {@code change} to {@code body} in place, keeping every other field and the field
     * order as they were.
     *
     * @return true when the body changed
     */
    boolean rewrite(Endpoint endpoint, Provider provider, ObjectNode body, BodyChange change);

    /**
     * {@code change} applied to the body without a tree of it, where the change is simple enough to
     * be spliced into the client's bytes (everything else stays byte for byte), or null when it
     * needs {@link #rewrite} on the whole tree.
     *
     * @param fields the fields {@link RequestScan} kept of this body
     */
    default byte[] splice(Endpoint endpoint, ObjectNode fields, BodyBytes body, BodyChange change) {
        return null;
    }

    /** A fresh collector for one response of {@code endpoint}. */
    UsageCollector usageCollector(Endpoint endpoint);

    /**
     * An error body shaped like the provider's own, which its SDKs parse: OpenAI
     * {@code {"error":{"message","type","param","code"}}}, Anthropic
     * {@code {"type":"error","error":{"type","message"}}}, Gemini and Vertex
     * {@code {"error":{"code","message","status"}}}, Bedrock {@code {"message"}} with its type in
     * {@link #errorHeaders}.
     *
     * @param status  the HTTP status it goes with (picks the error type)
     * @param code    a machine-readable code of ours (e.g. {@code token_budget_exceeded}), used
     *                where the format has a field for it
     * @param message a sentence for the developer
     */
    byte[] errorBody(int status, String code, String message);

    /**
     * Headers that go with {@link #errorBody} (lower case names are not required): Bedrock's
     * {@code x-amzn-ErrorType}; none for the other formats.
     */
    default java.util.Map<String, String> errorHeaders(int status) {
        return java.util.Map.of();
    }

    /** The codec of a family. */
    static ProviderCodec of(Family family) {
        return switch (family) {
            case OPENAI -> OpenAiCodec.INSTANCE;
            case ANTHROPIC -> AnthropicCodec.INSTANCE;
            case GEMINI -> GeminiCodec.INSTANCE;
            case BEDROCK -> BedrockCodec.INSTANCE;
        };
    }
}
