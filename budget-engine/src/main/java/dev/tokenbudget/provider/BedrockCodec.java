package dev.tokenbudget.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.provider.json.JsonScanner;

import java.util.Base64;
import java.util.Map;

/**
 * AWS Bedrock Runtime: Converse / ConverseStream (Bedrock's own format) and InvokeModel /
 * InvokeModelWithResponseStream (the model's own body: Anthropic's Messages for Claude, with
 * {@code anthropic_version} and no {@code model}). The model id is always in the path. Errors are
 * Bedrock's: the type in the {@code x-amzn-ErrorType} header, {@code {"message": ...}} as the body.
 */
final class BedrockCodec implements ProviderCodec {

    static final BedrockCodec INSTANCE = new BedrockCodec();

    /** The header AWS's JSON protocols carry the error type in (SDKs read the part before any {@code :}). */
    static final String ERROR_TYPE_HEADER = "x-amzn-ErrorType";

    private BedrockCodec() {
    }

    @Override
    public Family family() {
        return Family.BEDROCK;
    }

    @Override
    public RequestFacts inspect(Endpoint endpoint, ObjectNode body, PromptText prompt) {
        boolean stream = endpoint == Endpoint.CONVERSE_STREAM || endpoint == Endpoint.INVOKE_MODEL_STREAM;
        try {
            long max;
            if (endpoint == Endpoint.CONVERSE || endpoint == Endpoint.CONVERSE_STREAM) {
                max = BodyFields.count(BodyFields.object(body, "inferenceConfig"), "maxTokens", 1);
            } else {
                max = invokeCeiling(body);
            }
            return new RequestFacts(null, stream, stream, max, 1, prompt, null);
        } catch (BodyFields.Invalid e) {
            return RequestFacts.invalid(e.getMessage());
        }
    }

    /**
     * The output ceiling of an InvokeModel body, by the model family's own field: Anthropic, Mistral,
     * Cohere and AI21 {@code max_tokens}, Meta {@code max_gen_len}, Amazon Nova
     * {@code inferenceConfig.max_new_tokens}, Amazon Titan {@code textGenerationConfig.maxTokenCount}.
     */
    private static long invokeCeiling(ObjectNode body) {
        long max = BodyFields.count(body, "max_tokens", 1);
        if (max < 0) {
            max = BodyFields.count(body, "max_gen_len", 1);
        }
        if (max < 0 && body.get("inferenceConfig") instanceof ObjectNode nova) {
            max = BodyFields.count(nova, "max_new_tokens", 1);
        }
        if (max < 0 && body.get("textGenerationConfig") instanceof ObjectNode titan) {
            max = BodyFields.count(titan, "maxTokenCount", 1);
        }
        return max;
    }

    @Override
    public boolean rewrite(Endpoint endpoint, Provider provider, ObjectNode body, BodyChange change) {
        // the model is in the path (the gateway changes it there), never in the body
        if (endpoint == Endpoint.INVOKE_MODEL || endpoint == Endpoint.INVOKE_MODEL_STREAM) {
            if (body.has("max_gen_len") && change.maxOutputTokens() >= 0) {
                return BodyFields.clamp(body, "max_gen_len", Math.max(1, change.maxOutputTokens()))
                        | BodyFields.swapPrompt(body, "system", change.systemPrompts());
            }
            return AnthropicCodec.INSTANCE.rewrite(endpoint, provider, body,
                    new BodyChange(null, change.maxOutputTokens(), change.systemPrompts(), false));
        }
        boolean changed = false;
        if (change.maxOutputTokens() >= 0) {
            ObjectNode cfg = body.get("inferenceConfig") instanceof ObjectNode c ? c : body.putObject("inferenceConfig");
            changed = BodyFields.clamp(cfg, "maxTokens", Math.max(1, change.maxOutputTokens()));
        }
        // Converse's system is an array of blocks, {"text": ...} among them
        changed |= BodyFields.swapPrompt(body, "system", change.systemPrompts());
        return changed;
    }

    @Override
    public UsageCollector usageCollector(Endpoint endpoint) {
        return switch (endpoint) {
            case INVOKE_MODEL -> new InvokeUsage();
            case INVOKE_MODEL_STREAM -> new InvokeStreamUsage();
            default -> new ConverseUsage();
        };
    }

    @Override
    public byte[] errorBody(int status, String code, String message) {
        return RequestJson.write(RequestJson.object().put("message", message));
    }

    @Override
    public Map<String, String> errorHeaders(int status) {
        return Map.of(ERROR_TYPE_HEADER, errorType(status));
    }

    /** Bedrock Runtime's exception for a status, as its API reference lists them. */
    static String errorType(int status) {
        return switch (status) {
            case 400, 413 -> "ValidationException";
            case 401 -> "UnrecognizedClientException";
            case 403 -> "AccessDeniedException";
            case 404 -> "ResourceNotFoundException";
            case 408 -> "ModelTimeoutException";
            case 424 -> "ModelErrorException";
            case 429 -> "ThrottlingException";
            case 503 -> "ServiceUnavailableException";
            default -> "InternalServerException";
        };
    }

    /** A Bedrock collector: AWS's JSON error body is a lone {@code message} (some services spell it {@code Message}). */
    private abstract static class AwsUsage extends UsageCollector {
        final void awsError() {
            String err = text("message") != null ? text("message") : text("Message");
            if (err != null) {
                error(err);
            }
        }
    }

    /**
     * Converse's {@code usage} (in the body, and in ConverseStream's final {@code metadata} event):
     * {@code inputTokens} excludes the cache reads and writes, which are added here
     * ({@code docs/usage.md}); a top-level {@code message} is an error body.
     */
    private static final class ConverseUsage extends AwsUsage {
        private static final String U = "usage.";
        private static final JsonScanner.Paths PATHS = JsonScanner.Paths.of(U + "inputTokens", U + "outputTokens",
                U + "cacheReadInputTokens", U + "cacheWriteInputTokens", "message", "Message");
        /** ConverseStream's usage is in its {@code metadata} event; a top-level message is an error. */
        private static final EventKeys KEYS = EventKeys.of("usage", "message", "Message");

        @Override
        protected JsonScanner.Paths paths() {
            return PATHS;
        }

        @Override
        protected EventKeys eventKeys() {
            return KEYS;
        }

        @Override
        protected boolean readsEveryEvent() {
            return false; // Converse names no model in its events
        }

        @Override
        protected void apply() {
            awsError();
            Long in = count(U + "inputTokens");
            Long out = count(U + "outputTokens");
            if (in == null && out == null) {
                return;
            }
            Long read = count(U + "cacheReadInputTokens");
            input = in == null ? null : sum(in, read, count(U + "cacheWriteInputTokens"));
            output = out;
            cached = read;
            // metadata is ConverseStream's last event; a body is final once parsed whole (endBody)
            complete = "metadata".equals(eventType) && input != null && output != null;
        }
    }

    /** InvokeModel's body: Anthropic's message for Claude, else the model family's own counts. */
    private static final class InvokeUsage extends AwsUsage {
        private final UsageCollector anthropic = AnthropicCodec.messagesUsage();
        private final InvocationMetrics metrics = new InvocationMetrics();

        @Override
        protected JsonScanner.Paths paths() {
            return InvocationMetrics.WITH_MESSAGES;
        }

        @Override
        protected void apply() {
            awsError();
            anthropic.begin(null);
            doc.forEach(anthropic::value);
            anthropic.end(null);
            adopt(anthropic);
            metrics.read(this);
        }
    }

    /**
     * InvokeModelWithResponseStream: each {@code chunk} event's {@code bytes} is the base64 of one of
     * the model's own stream events (Anthropic's {@code message_start} ... {@code message_stop} for
     * Claude), read with the Anthropic collector; other models' final chunk carries
     * {@code amazon-bedrock-invocationMetrics}, read when Anthropic's counts are absent.
     */
    private static final class InvokeStreamUsage extends AwsUsage {
        private static final JsonScanner.Paths PATHS = JsonScanner.Paths.of("bytes", "message", "Message");
        private final UsageCollector anthropic = AnthropicCodec.messagesUsage();
        private final InvocationMetrics metrics = new InvocationMetrics();

        @Override
        protected JsonScanner.Paths paths() {
            return PATHS;
        }

        @Override
        protected void apply() {
            awsError();
            String b64 = text("bytes");
            if (b64 == null) {
                return;
            }
            byte[] event;
            try {
                event = Base64.getDecoder().decode(b64);
            } catch (IllegalArgumentException e) {
                note("a chunk's bytes are not base64 (" + e.getMessage() + "); that event was skipped");
                return;
            }
            anthropic.begin(null);
            JsonScanner scanner = new JsonScanner(InvocationMetrics.WITH_MESSAGES, anthropic::value);
            scanner.feed(event, 0, event.length);
            scanner.end();
            // the Anthropic collector ignores paths it does not read; the metrics are read from its doc
            metrics.readDoc(anthropic);
            anthropic.end(scanner.failure());
            adopt(anthropic);
            metrics.apply(this);
        }
    }

    /** Bedrock's own counts for any model: {@code amazon-bedrock-invocationMetrics} in the final event. */
    private static final class InvocationMetrics {
        private static final String M = "amazon-bedrock-invocationMetrics.";
        private static final String[] FIELDS = {M + "inputTokenCount", M + "outputTokenCount",
            M + "cacheReadInputTokenCount", M + "cacheWriteInputTokenCount"};
        private Long in;
        private Long out;
        private Long read;
        private Long write;

        /** Anthropic's Messages paths, these metrics and AWS's error message: built once, its tables are shared. */
        static final JsonScanner.Paths WITH_MESSAGES = pathsWith(AnthropicCodec.messagesUsage().paths());

        private static JsonScanner.Paths pathsWith(JsonScanner.Paths others) {
            java.util.Set<String> all = new java.util.HashSet<>(others.paths());
            all.addAll(java.util.List.of(FIELDS));
            all.add("message"); // AWS's error body
            all.add("Message");
            return JsonScanner.Paths.of(all);
        }

        void readDoc(UsageCollector c) {
            if (c.doc.containsKey(FIELDS[0])) {
                in = c.count(FIELDS[0]);
                out = c.count(FIELDS[1]);
                read = c.count(FIELDS[2]);
                write = c.count(FIELDS[3]);
            }
        }

        void read(UsageCollector c) {
            readDoc(c);
            apply(c);
        }

        /** Fills in counts the model's own events did not give. */
        void apply(UsageCollector c) {
            if (c.input == null && c.output == null && in != null && out != null) {
                c.input = c.sum(in, read, write);
                c.output = out;
                c.cached = read;
                c.complete = true; // the metrics come with the last event only
            }
        }
    }
}
