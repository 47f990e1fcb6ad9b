package dev.tokenbudget.fake;

import com.fasterxml.jackson.databind.JsonNode;

/** Reading the request fields every provider shares, with the providers' own kind of error messages. */
final class RequestFields {

    private RequestFields() {
    }

    static String model(JsonNode request) throws ApiError {
        JsonNode m = request.get("model");
        if (m == null || !m.isTextual() || m.asText().isBlank()) {
            throw ApiError.invalid("you must provide a model parameter");
        }
        return m.asText();
    }

    /** A positive integer field, or -1 when absent or null. */
    static long ceiling(JsonNode request, String field) throws ApiError {
        JsonNode n = request.get(field);
        if (n == null || n.isNull()) {
            return -1;
        }
        if (!n.canConvertToLong() || !n.isIntegralNumber() || n.asLong() < 1) {
            throw ApiError.invalid(field + ": expected an integer >= 1, got " + n);
        }
        return n.asLong();
    }

    static boolean stream(JsonNode request) {
        JsonNode s = request.get("stream");
        return s != null && s.asBoolean(false);
    }

    /** The text of a content value: a string, or an array of parts whose {@code text} fields count. */
    static String text(JsonNode content) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder sb = new StringBuilder();
        if (content.isArray()) {
            for (JsonNode part : content) {
                if (part.isTextual()) {
                    sb.append(part.asText());
                } else if (part.has("text")) {
                    sb.append(part.get("text").asText());
                } else if (part.has("content")) {
                    sb.append(text(part.get("content")));
                }
            }
        }
        return sb.toString();
    }

    /**
     * Tokens of a conversation the way OpenAI's chat format counts them: each message costs its
     * text plus a few framing tokens, and the reply is primed with three more.
     */
    static long conversationTokens(TokenCounter counter, Iterable<JsonNode> messages, String preamble) {
        long tokens = 3;
        if (preamble != null && !preamble.isEmpty()) {
            tokens += 4 + counter.count(preamble);
        }
        for (JsonNode m : messages) {
            tokens += 3 + counter.count(m.path("role").asText("user")) + counter.count(text(m.get("content")));
        }
        return tokens;
    }
}
