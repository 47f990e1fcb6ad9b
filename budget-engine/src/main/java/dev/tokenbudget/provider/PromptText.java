package dev.tokenbudget.provider;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The part of a request the model reads, reduced to what an estimate needs: the text of every
 * string a provider tokenizes (messages, system prompt, tool definitions and arguments), the
 * number of messages (each costs a few framing tokens), the number of media parts (images,
 * files, audio: estimated per part, never tokenized as base64 text) and token ids a request may
 * send directly (OpenAI's {@code prompt} / {@code input} as integer arrays).
 *
 * @param text        concatenated text, separated by newlines
 * @param messages    message-like objects (those with a {@code role})
 * @param mediaParts  media parts
 * @param tokenIds    integer token ids sent as such
 */
public record PromptText(String text, int messages, int mediaParts, long tokenIds) {

    public static final PromptText EMPTY = new PromptText("", 0, 0, 0);

    /** Fields whose string values are settings or identifiers, not text the model reads. */
    static final Set<String> NOT_TEXT = Set.of("model", "role", "type", "id", "tool_call_id", "call_id",
            "tool_choice", "detail", "format", "encoding_format", "user", "service_tier", "reasoning_effort",
            "mime_type", "mimeType", "media_type", "finish_reason", "previous_response_id", "truncation",
            "response_mime_type", "responseMimeType", "cache_control", "ttl", "safety_identifier",
            "prompt_cache_key", "metadata", "voice", "modalities", "stop", "stop_sequences", "stopSequences",
            "store", "status", "signature", "effort", "verbosity");
    /** Fields that hold media, inline (base64) or by reference. */
    static final Set<String> MEDIA = Set.of("image_url", "input_audio", "inlineData", "inline_data",
            "fileData", "file_data", "file_id", "file_url", "image", "document", "source", "input_image",
            "input_file");
    /** Fields whose integer arrays are token ids. */
    private static final Set<String> TOKEN_ARRAYS = Set.of("prompt", "input");

    /** Reads the prompt of a parsed request body. */
    public static PromptText of(JsonNode body) {
        Walker w = new Walker();
        w.walk(body, null, 0);
        return new PromptText(w.text.toString(), w.messages, w.media, w.tokenIds);
    }

    private static final class Walker {
        final StringBuilder text = new StringBuilder(256);
        int messages;
        int media;
        long tokenIds;

        void walk(JsonNode n, String field, int depth) {
            if (depth > 64) {
                return; // providers nest far less; deeper structure is not prompt text worth the stack
            }
            if (n.isObject()) {
                if (n.has("role")) {
                    messages++;
                }
                for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    String k = e.getKey();
                    if (MEDIA.contains(k) && isMedia(e.getValue())) {
                        media++;
                    } else if (!NOT_TEXT.contains(k)) {
                        walk(e.getValue(), k, depth + 1);
                    }
                }
            } else if (n.isArray()) {
                for (JsonNode c : n) {
                    if (c.isIntegralNumber() && field != null && TOKEN_ARRAYS.contains(field)) {
                        tokenIds++;
                    } else {
                        walk(c, field, depth + 1);
                    }
                }
            } else if (n.isTextual()) {
                String s = n.textValue();
                if (s.startsWith("data:") && s.length() > 64) {
                    media++; // a data: URL outside the known media fields
                } else {
                    if (!text.isEmpty()) {
                        text.append('\n');
                    }
                    text.append(s);
                }
            }
        }

        /** A media field holds a reference or base64 data, except where a provider reuses the name for text. */
        private static boolean isMedia(JsonNode v) {
            return !(v.isObject() && v.has("text") && !v.has("data"));
        }
    }
}
