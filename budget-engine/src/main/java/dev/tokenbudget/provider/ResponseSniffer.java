package dev.tokenbudget.provider;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Guesses the format of a saved response or stream from its content, for tools that read files
 * (the {@code usage} command) rather than live traffic, where the route says what it is.
 */
public final class ResponseSniffer {

    /** How much of the content is looked at. */
    static final int HEAD = 64 * 1024;

    private static final Pattern ANTHROPIC = Pattern.compile(
            "\"type\"\\s*:\\s*\"(message_start|message_delta|content_block_delta|message)\"");
    private static final Pattern GEMINI = Pattern.compile("\"(usageMetadata|candidates|modelVersion)\"\\s*:");
    private static final Pattern RESPONSES = Pattern.compile(
            "\"type\"\\s*:\\s*\"response\\.|\"object\"\\s*:\\s*\"response\"");
    private static final Pattern EMBEDDINGS = Pattern.compile("\"object\"\\s*:\\s*\"embedding\"");
    private static final Pattern GEMINI_ERROR = Pattern.compile("\"status\"\\s*:\\s*\"[A-Z_]+\"");
    private static final Pattern ANTHROPIC_ERROR = Pattern.compile("\"type\"\\s*:\\s*\"error\"");

    private ResponseSniffer() {
    }

    /**
     * What a saved response is.
     *
     * @param family   the provider family
     * @param endpoint the operation it answers
     * @param sse      true for an event stream, false for a JSON body
     */
    public record Sniffed(Family family, Endpoint endpoint, boolean sse) {

        /** The content type to read it with. */
        public String contentType() {
            return sse ? "text/event-stream" : "application/json";
        }
    }

    /** Sniffs {@code content}; {@code family}, when not null, is taken as given. */
    public static Sniffed sniff(byte[] content, Family family) {
        String head = new String(content, 0, Math.min(content.length, HEAD), StandardCharsets.UTF_8);
        String t = head.stripLeading();
        if (!t.isEmpty() && t.charAt(0) == '\uFEFF') {
            t = t.substring(1).stripLeading();
        }
        boolean sse = !(t.startsWith("{") || t.startsWith("["));
        Family f = family != null ? family : guessFamily(head);
        Endpoint e = switch (f) {
            case ANTHROPIC -> Endpoint.MESSAGES;
            case GEMINI -> sse || t.startsWith("[") ? Endpoint.STREAM_GENERATE_CONTENT : Endpoint.GENERATE_CONTENT;
            case OPENAI -> RESPONSES.matcher(head).find() ? Endpoint.RESPONSES
                    : EMBEDDINGS.matcher(head).find() ? Endpoint.EMBEDDINGS : Endpoint.CHAT_COMPLETIONS;
        };
        return new Sniffed(f, e, sse);
    }

    private static Family guessFamily(String head) {
        if (RESPONSES.matcher(head).find()) {
            return Family.OPENAI; // its output items have "type":"message" too
        }
        if (ANTHROPIC.matcher(head).find()) {
            return Family.ANTHROPIC;
        }
        if (GEMINI.matcher(head).find()) {
            return Family.GEMINI;
        }
        if (head.contains("\"error\"")) {
            // error bodies: Anthropic's carry a top-level type, Gemini's a status word
            if (ANTHROPIC_ERROR.matcher(head).find()) {
                return Family.ANTHROPIC;
            }
            if (GEMINI_ERROR.matcher(head).find()) {
                return Family.GEMINI;
            }
        }
        return Family.OPENAI;
    }
}
