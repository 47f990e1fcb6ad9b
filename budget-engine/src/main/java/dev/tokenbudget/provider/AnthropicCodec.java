package dev.tokenbudget.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.provider.json.JsonScanner;

/** Anthropic's Messages API. */
final class AnthropicCodec implements ProviderCodec {

    static final AnthropicCodec INSTANCE = new AnthropicCodec();

    private AnthropicCodec() {
    }

    @Override
    public Family family() {
        return Family.ANTHROPIC;
    }

    @Override
    public RequestFacts inspect(Endpoint endpoint, ObjectNode body, PromptText prompt) {
        try {
            String model = BodyFields.string(body, "model");
            boolean stream = BodyFields.bool(body, "stream");
            long max = BodyFields.count(body, "max_tokens", 1);
            return new RequestFacts(model, stream, stream, max, 1, prompt, null);
        } catch (BodyFields.Invalid e) {
            return RequestFacts.invalid(e.getMessage());
        }
    }

    @Override
    public boolean rewrite(Endpoint endpoint, Provider provider, ObjectNode body, BodyChange change) {
        boolean changed = false;
        // on Bedrock and Vertex the model is in the path, and a model field in the body is refused
        if (change.model() != null && body.has("model") && !change.model().equals(body.path("model").asText())) {
            body.put("model", change.model());
            changed = true;
        }
        if (change.maxOutputTokens() >= 0) {
            changed |= BodyFields.clamp(body, "max_tokens", Math.max(1, change.maxOutputTokens()));
        }
        changed |= BodyFields.swapPrompt(body, "system", change.systemPrompts());
        return changed;
    }

    @Override
    public UsageCollector usageCollector(Endpoint endpoint) {
        return new MessagesUsage();
    }

    /** A collector of Messages usage, for formats that carry Anthropic's documents inside their own (Bedrock). */
    static UsageCollector messagesUsage() {
        return new MessagesUsage();
    }

    @Override
    public byte[] errorBody(int status, String code, String message) {
        String type = switch (status) {
            case 400 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            case 503, 529 -> "overloaded_error";
            default -> "api_error";
        };
        ObjectNode error = RequestJson.object().put("type", type).put("message", message);
        ObjectNode root = RequestJson.object().put("type", "error");
        root.set("error", error);
        return RequestJson.write(root);
    }

    /**
     * Usage of a Messages response: in the body's {@code usage}; in a stream, input in
     * {@code message_start}'s {@code message.usage}, output in each {@code message_delta}'s
     * {@code usage}, which is cumulative (assigned, never added) and may also restate input and
     * cache counts; the count is final with the delta that carries a stop reason, or at {@code message_stop}.
     */
    private static final class MessagesUsage extends UsageCollector {
        private static final JsonScanner.Paths PATHS = JsonScanner.Paths.of("type", "model", "message.model",
                "usage.input_tokens", "usage.output_tokens", "usage.cache_creation_input_tokens",
                "usage.cache_read_input_tokens", "message.usage.input_tokens", "message.usage.output_tokens",
                "message.usage.cache_creation_input_tokens", "message.usage.cache_read_input_tokens",
                "error.type", "error.message", "delta.stop_reason");
        /**
         * Usage is in {@code message_start} and {@code message_delta}; a {@code message_delta} (stop
         * reason) and {@code message_stop} may complete it without a usage of their own; errors are
         * {@code error} events. Content blocks and pings hold none of these.
         */
        private static final EventKeys KEYS = EventKeys.of("usage", "error", "message_delta", "message_stop");

        /** The counts' paths under {@code usage.} and {@code message.usage.}: input, cache write, cache read, output. */
        private static final String[] USAGE = counts("usage.");
        private static final String[] MESSAGE_USAGE = counts("message.usage.");

        private static String[] counts(String prefix) {
            return new String[] {prefix + "input_tokens", prefix + "cache_creation_input_tokens",
                prefix + "cache_read_input_tokens", prefix + "output_tokens"};
        }

        private Long uncached;
        private Long cacheWrite;
        private Long cacheRead;

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
            if ("error".equals(type) || has("error.type")) {
                error(text("error.message") != null ? text("error.message") : text("error.type"));
                return;
            }
            model(text("model"));
            model(text("message.model"));
            if ("message_start".equals(type)) {
                take(MESSAGE_USAGE);
            } else if ("message_delta".equals(type)) {
                take(USAGE);
                // server tools send several deltas; only the one with a stop reason is final
                complete = output != null && has("delta.stop_reason");
            } else if ("message_stop".equals(type)) {
                complete = output != null;
            } else if ("message".equals(type) || (type == null && has("usage.output_tokens"))) {
                take(USAGE);
                complete = input != null && output != null;
            }
        }

        private void take(String[] counts) {
            Long in = count(counts[0]);
            Long write = count(counts[1]);
            Long read = count(counts[2]);
            Long out = count(counts[3]);
            if (in != null) {
                uncached = in;
            }
            if (write != null) {
                cacheWrite = write;
            }
            if (read != null) {
                cacheRead = read;
            }
            if (out != null) {
                output = out;
            }
            // our convention: input is all input billed, cache reads and writes included
            input = uncached == null ? null : sum(uncached, cacheWrite, cacheRead);
            cached = cacheRead;
        }
    }
}
