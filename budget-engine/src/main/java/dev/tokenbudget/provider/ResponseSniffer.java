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
    private static final Pattern CONVERSE = Pattern.compile("\"(inputTokens|outputTokens|stopReason)\"\\s*:");
    /** AWS's JSON error body: a lone {@code message} (or {@code Message}) at the top. */
    private static final Pattern AWS_ERROR = Pattern.compile("^\\s*\\{\\s*\"[Mm]essage\"\\s*:");
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
    public record Sniffed(Family family, Endpoint endpoint, boolean sse, boolean eventStream) {

        public Sniffed(Family family, Endpoint endpoint, boolean sse) {
            this(family, endpoint, sse, false);
        }

        /** The content type to read it with. */
        public String contentType() {
            return eventStream ? "application/vnd.amazon.eventstream" : sse ? "text/event-stream" : "application/json";
        }

        /** True for a stream of either kind. */
        public boolean streamed() {
            return sse || eventStream;
        }
    }

    /** Sniffs {@code content}; {@code family}, when not null, is taken as given. */
    public static Sniffed sniff(byte[] content, Family family) {
        String head = new String(content, 0, Math.min(content.length, HEAD), StandardCharsets.UTF_8);
        String t = head.stripLeading();
        if (!t.isEmpty() && t.charAt(0) == '\uFEFF') {
            t = t.substring(1).stripLeading();
        }
        if (awsEventStream(content)) {
            // Bedrock's binary streams: InvokeModelWithResponseStream wraps the model's events in "bytes"
            Endpoint e = head.contains("\"bytes\"") ? Endpoint.INVOKE_MODEL_STREAM : Endpoint.CONVERSE_STREAM;
            return new Sniffed(Family.BEDROCK, e, false, true);
        }
        boolean sse = !(t.startsWith("{") || t.startsWith("["));
        Family f = family != null ? family : guessFamily(head);
        Endpoint e = switch (f) {
            case ANTHROPIC -> Endpoint.MESSAGES;
            case BEDROCK -> CONVERSE.matcher(head).find() ? Endpoint.CONVERSE : Endpoint.INVOKE_MODEL;
            case GEMINI -> sse || t.startsWith("[") ? Endpoint.STREAM_GENERATE_CONTENT : Endpoint.GENERATE_CONTENT;
            case OPENAI -> RESPONSES.matcher(head).find() ? Endpoint.RESPONSES
                    : EMBEDDINGS.matcher(head).find() ? Endpoint.EMBEDDINGS : Endpoint.CHAT_COMPLETIONS;
        };
        return new Sniffed(f, e, sse);
    }

    /** A first frame whose prelude checksum holds: an AWS event stream, not text. */
    private static boolean awsEventStream(byte[] c) {
        if (c.length < 16 || c[0] != 0) {
            return false;
        }
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(c, 0, 8);
        long wire = ((c[8] & 0xFFL) << 24) | ((c[9] & 0xFFL) << 16) | ((c[10] & 0xFFL) << 8) | (c[11] & 0xFFL);
        return crc.getValue() == wire;
    }

    private static Family guessFamily(String head) {
        if (CONVERSE.matcher(head).find() || AWS_ERROR.matcher(head).find()) {
            return Family.BEDROCK;
        }
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
