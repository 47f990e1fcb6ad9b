package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/** One provider endpoint the fake speaks: its path, how it answers, and how its errors look. */
interface ProviderApi {

    /** Tunables shared by every endpoint, read per request. */
    record Tuning(int replyTokens, int tokensPerChunk, StreamPacer pacer) {
    }

    String path();

    /** Whether this API answers {@code path} (APIs with the model in the path match a pattern). */
    default boolean matches(String path) {
        return path.equals(path());
    }

    /** Headers that go with {@link #error} (Bedrock's {@code x-amzn-ErrorType}). */
    default void errorHeaders(Wire wire, int status) {
    }

    /** Answers a parsed request body, JSON or streamed, recording the usage it reports. */
    void serve(JsonNode request, Wire wire, RecordedExchange record, Tuning tuning)
            throws IOException, InterruptedException, ApiError;

    /** The provider's error document for a status and error type. */
    ObjectNode error(int status, String type, String message);
}
