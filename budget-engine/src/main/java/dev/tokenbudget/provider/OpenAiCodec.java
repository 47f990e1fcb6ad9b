package dev.tokenbudget.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.provider.json.JsonScanner;

/** OpenAI's format: Chat Completions, Completions, Responses and Embeddings; Azure and compatible servers. */
final class OpenAiCodec implements ProviderCodec {

    static final OpenAiCodec INSTANCE = new OpenAiCodec();

    private OpenAiCodec() {
    }

    @Override
    public Family family() {
        return Family.OPENAI;
    }

    @Override
    public RequestFacts inspect(Endpoint endpoint, ObjectNode body, PromptText prompt) {
        try {
            String model = BodyFields.string(body, "model");
            boolean stream = BodyFields.bool(body, "stream");
            ObjectNode opts = BodyFields.object(body, "stream_options");
            boolean streamUsage = opts != null && BodyFields.bool(opts, "include_usage");
            long max;
            int choices = 1;
            switch (endpoint) {
                case CHAT_COMPLETIONS -> {
                    long mct = BodyFields.count(body, "max_completion_tokens", 1);
                    long mt = BodyFields.count(body, "max_tokens", 1);
                    max = mct >= 0 ? mct : mt; // OpenAI honours max_completion_tokens over the deprecated field
                    choices = BodyFields.choices(body, "n");
                }
                case COMPLETIONS -> {
                    max = BodyFields.count(body, "max_tokens", 0);
                    choices = Math.max(BodyFields.choices(body, "n"), BodyFields.choices(body, "best_of"));
                }
                case RESPONSES -> max = BodyFields.count(body, "max_output_tokens", 1);
                default -> max = 0; // embeddings produce no output tokens
            }
            return new RequestFacts(model, stream, streamUsage, max, choices, prompt, null);
        } catch (BodyFields.Invalid e) {
            return RequestFacts.invalid(e.getMessage());
        }
    }

    @Override
    public boolean rewrite(Endpoint endpoint, Provider provider, ObjectNode body, BodyChange change) {
        boolean changed = false;
        if (change.model() != null && body.has("model") && !change.model().equals(body.path("model").asText())) {
            body.put("model", change.model());
            changed = true;
        }
        if (change.maxOutputTokens() >= 0) {
            changed |= switch (endpoint) {
                case CHAT_COMPLETIONS -> clampChat(provider, body, change.maxOutputTokens());
                case COMPLETIONS -> BodyFields.clamp(body, "max_tokens", change.maxOutputTokens());
                case RESPONSES -> BodyFields.clamp(body, "max_output_tokens", change.maxOutputTokens());
                default -> false;
            };
        }
        if (!change.systemPrompts().isEmpty()) {
            changed |= BodyFields.swapPrompt(body, "instructions", change.systemPrompts());
            changed |= swapMessages(body.get("messages"), change);
            changed |= swapMessages(body.get("input"), change);
        }
        if (change.includeStreamUsage() && (endpoint == Endpoint.CHAT_COMPLETIONS
                || endpoint == Endpoint.COMPLETIONS) && body.path("stream").asBoolean(false)) {
            JsonNode opts = body.get("stream_options");
            if (!(opts instanceof ObjectNode)) {
                body.set("stream_options", RequestJson.object().put("include_usage", true));
                changed = true;
            } else if (!opts.path("include_usage").asBoolean(false)) {
                ((ObjectNode) opts).put("include_usage", true);
                changed = true;
            }
        }
        return changed;
    }

    /**
     * Asking a stream for usage, when that is the whole change and the body has no
     * {@code stream_options}: the field is added before the root's closing brace, where
     * {@link #rewrite} would add it, and nothing else is written anew.
     */
    @Override
    public byte[] splice(Endpoint endpoint, ObjectNode fields, BodyBytes body, BodyChange change) {
        if (!change.includeStreamUsage() || change.model() != null || change.maxOutputTokens() >= 0
                || !change.systemPrompts().isEmpty() || fields == null || fields.has("stream_options")
                || !fields.path("stream").asBoolean(false)
                || (endpoint != Endpoint.CHAT_COMPLETIONS && endpoint != Endpoint.COMPLETIONS)) {
            return null;
        }
        byte[] b = body.toArray();
        int end = b.length - 1;
        while (end >= 0 && (b[end] == ' ' || b[end] == '\n' || b[end] == '\r' || b[end] == '\t')) {
            end--;
        }
        if (end < 1 || b[end] != '}') {
            return null; // not what a scanned object ends with: leave it to the tree
        }
        byte[] out = new byte[end + STREAM_USAGE.length + 1];
        System.arraycopy(b, 0, out, 0, end);
        System.arraycopy(STREAM_USAGE, 0, out, end, STREAM_USAGE.length);
        out[out.length - 1] = '}';
        return out;
    }

    /** The member {@link #splice} adds; the body has {@code "stream": true}, so it follows another. */
    private static final byte[] STREAM_USAGE = ",\"stream_options\":{\"include_usage\":true}"
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static boolean clampChat(Provider provider, ObjectNode body, long clamp) {
        boolean changed = false;
        if (body.has("max_completion_tokens")) {
            changed = BodyFields.clamp(body, "max_completion_tokens", clamp);
        }
        if (body.has("max_tokens")) {
            changed |= BodyFields.clamp(body, "max_tokens", clamp);
        }
        if (!body.has("max_completion_tokens") && !body.has("max_tokens")) {
            // compatible servers widely know only max_tokens; OpenAI and Azure reasoning models only the new field
            changed = BodyFields.clamp(body, provider == Provider.OPENAI_COMPATIBLE ? "max_tokens"
                    : "max_completion_tokens", clamp);
        }
        return changed;
    }

    private static boolean swapMessages(JsonNode messages, BodyChange change) {
        boolean changed = false;
        if (messages instanceof ArrayNode list) {
            for (JsonNode m : list) {
                String role = m.path("role").asText("");
                if (m instanceof ObjectNode msg && (role.equals("system") || role.equals("developer"))) {
                    changed |= BodyFields.swapPrompt(msg, "content", change.systemPrompts());
                }
            }
        }
        return changed;
    }

    @Override
    public UsageCollector usageCollector(Endpoint endpoint) {
        return endpoint == Endpoint.RESPONSES ? new ResponsesUsage() : new ChatUsage();
    }

    @Override
    public byte[] errorBody(int status, String code, String message) {
        String type = switch (status) {
            case 400, 404, 413 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 429 -> "insufficient_quota";
            default -> "server_error";
        };
        ObjectNode error = RequestJson.object();
        error.put("message", message).put("type", type).putNull("param").put("code", code);
        ObjectNode root = RequestJson.object();
        root.set("error", error);
        return RequestJson.write(root);
    }

    /** Chat Completions, Completions and Embeddings: one {@code usage} object, in the body or the last chunk. */
    private static final class ChatUsage extends UsageCollector {
        private static final JsonScanner.Paths PATHS = JsonScanner.Paths.of("model", "usage.prompt_tokens",
                "usage.completion_tokens", "usage.total_tokens", "usage.prompt_tokens_details.cached_tokens",
                "usage.completion_tokens_details.reasoning_tokens", "error.message", "error.type", "error.code",
                "object");
        /** Every chunk names the model; only the last one holds usage, errors come as an {@code error} event. */
        private static final EventKeys KEYS = EventKeys.of("usage", "error");

        @Override
        protected JsonScanner.Paths paths() {
            return PATHS;
        }

        @Override
        protected EventKeys eventKeys() {
            return KEYS;
        }

        @Override
        protected void apply() {
            model(text("model"));
            if (has("error.message") || has("error.type") || has("error.code")) {
                error(text("error.message"));
            }
            Long in = count("usage.prompt_tokens");
            if (in == null) {
                return;
            }
            Long out = count("usage.completion_tokens");
            if (out == null) {
                // embeddings report prompt and total only; total - prompt is the output, which is 0
                Long total = count("usage.total_tokens");
                out = total == null ? 0L : Math.max(0, total - in);
            }
            input = in;
            output = out;
            cached = count("usage.prompt_tokens_details.cached_tokens");
            reasoning = count("usage.completion_tokens_details.reasoning_tokens");
            complete = true;
        }
    }

    /**
     * Responses: {@code usage} in the body, or {@code response.usage} in the stream's terminal
     * event ({@code response.completed}, {@code response.incomplete}, {@code response.failed}).
     */
    private static final class ResponsesUsage extends UsageCollector {
        private static final JsonScanner.Paths PATHS = JsonScanner.Paths.of("type", "model", "usage.input_tokens",
                "usage.output_tokens", "usage.input_tokens_details.cached_tokens",
                "usage.output_tokens_details.reasoning_tokens", "response.model", "response.usage.input_tokens",
                "response.usage.output_tokens", "response.usage.input_tokens_details.cached_tokens",
                "response.usage.output_tokens_details.reasoning_tokens", "response.error.message", "error.message",
                "error.code", "message", "code");
        /**
         * Usage comes in the terminal {@code response.*} event's {@code response.usage}; an {@code error}
         * event (its {@code "type":"error"}) or a failed response's {@code response.error} holds "error".
         */
        private static final EventKeys KEYS = EventKeys.of("usage", "error");
        /** The counts' paths under {@code usage.} and {@code response.usage.}: input, output, cached, reasoning. */
        private static final String[] USAGE = counts("usage.");
        private static final String[] RESPONSE_USAGE = counts("response.usage.");

        private static String[] counts(String prefix) {
            return new String[] {prefix + "input_tokens", prefix + "output_tokens",
                prefix + "input_tokens_details.cached_tokens", prefix + "output_tokens_details.reasoning_tokens"};
        }

        @Override
        protected JsonScanner.Paths paths() {
            return PATHS;
        }

        @Override
        protected EventKeys eventKeys() {
            return KEYS;
        }

        @Override
        protected void apply() {
            String type = text("type");
            model(text("model"));
            model(text("response.model"));
            if (has("error.message")) {
                error(text("error.message"));
            }
            if (has("response.error.message")) {
                error(text("response.error.message"));
            }
            if ("error".equals(type)) {
                error(text("message"));
            }
            if (has("usage.input_tokens") || has("usage.output_tokens")) {
                take(USAGE);
            } else if (has("response.usage.input_tokens") || has("response.usage.output_tokens")) {
                take(RESPONSE_USAGE);
            }
        }

        private void take(String[] counts) {
            Long in = count(counts[0]);
            Long out = count(counts[1]);
            if (in == null || out == null) {
                return;
            }
            input = in;
            output = out;
            cached = count(counts[2]);
            reasoning = count(counts[3]);
            complete = true;
        }
    }
}
