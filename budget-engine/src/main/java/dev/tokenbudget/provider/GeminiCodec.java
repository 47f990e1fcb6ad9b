package dev.tokenbudget.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbudget.provider.json.JsonScanner;

/** Google's Gemini API: generateContent and streamGenerateContent. */
final class GeminiCodec implements ProviderCodec {

    static final GeminiCodec INSTANCE = new GeminiCodec();

    private GeminiCodec() {
    }

    @Override
    public Family family() {
        return Family.GEMINI;
    }

    @Override
    public RequestFacts inspect(Endpoint endpoint, ObjectNode body, PromptText prompt) {
        try {
            ObjectNode gen = config(body);
            long max = BodyFields.count(gen, "maxOutputTokens", 1);
            ObjectNode thinking = BodyFields.object(gen, "thinkingConfig");
            long budget = BodyFields.count(thinking, "thinkingBudget", -1);
            if (max >= 0 && budget > 0) {
                max += budget; // thinking is billed as output on top of the visible answer's ceiling
            }
            int choices = gen == null ? 1 : BodyFields.choices(gen, "candidateCount");
            boolean stream = endpoint == Endpoint.STREAM_GENERATE_CONTENT;
            return new RequestFacts(BodyFields.string(body, "model"), stream, stream, max, choices,
                    prompt, null);
        } catch (BodyFields.Invalid e) {
            return RequestFacts.invalid(e.getMessage());
        }
    }

    /** The generation config, under its REST name or its proto name. */
    private static ObjectNode config(ObjectNode body) {
        ObjectNode gen = BodyFields.object(body, "generationConfig");
        return gen != null ? gen : BodyFields.object(body, "generation_config");
    }

    @Override
    public boolean rewrite(Endpoint endpoint, Provider provider, ObjectNode body, BodyChange change) {
        boolean changed = false;
        if (change.model() != null && body.has("model")) {
            body.put("model", change.model());
            changed = true;
        }
        if (change.maxOutputTokens() >= 0) {
            ObjectNode gen = body.get("generationConfig") instanceof ObjectNode g ? g
                    : body.get("generation_config") instanceof ObjectNode g2 ? g2 : null;
            if (gen == null) {
                gen = body.putObject("generationConfig");
            }
            changed |= BodyFields.clamp(gen, "maxOutputTokens", Math.max(1, change.maxOutputTokens()));
        }
        for (String field : new String[] {"systemInstruction", "system_instruction"}) {
            if (body.get(field) instanceof ObjectNode sys) {
                changed |= BodyFields.swapPrompt(sys, "parts", change.systemPrompts());
            }
        }
        return changed;
    }

    @Override
    public UsageCollector usageCollector(Endpoint endpoint) {
        return new GenerateUsage();
    }

    @Override
    public byte[] errorBody(int status, String code, String message) {
        String st = switch (status) {
            case 400, 413 -> "INVALID_ARGUMENT";
            case 401 -> "UNAUTHENTICATED";
            case 403 -> "PERMISSION_DENIED";
            case 404 -> "NOT_FOUND";
            case 429 -> "RESOURCE_EXHAUSTED";
            case 503 -> "UNAVAILABLE";
            default -> "INTERNAL";
        };
        ObjectNode error = RequestJson.object().put("code", status).put("message", message).put("status", st);
        ObjectNode root = RequestJson.object();
        root.set("error", error);
        return RequestJson.write(root);
    }

    /**
     * {@code usageMetadata}, cumulative in every chunk of a stream (assigned, never added):
     * {@code promptTokenCount} includes {@code cachedContentTokenCount}; output is
     * {@code candidatesTokenCount} plus {@code thoughtsTokenCount}; tool-use prompt tokens are input.
     */
    private static final class GenerateUsage extends UsageCollector {
        private static final String U = "usageMetadata.";
        private static final JsonScanner.Paths PATHS = JsonScanner.Paths.of("modelVersion", U + "promptTokenCount",
                U + "candidatesTokenCount", U + "thoughtsTokenCount", U + "cachedContentTokenCount",
                U + "toolUsePromptTokenCount", U + "totalTokenCount", "candidates.finishReason", "promptFeedback.blockReason", "error.code",
                "error.message", "error.status");
        /** Usage is in each chunk's {@code usageMetadata} (finish and block reasons count only with it). */
        private static final EventKeys KEYS = EventKeys.of("usageMetadata", "error");

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
            model(text("modelVersion"));
            if (has("error.code") || has("error.message")) {
                error(text("error.message") != null ? text("error.message") : text("error.status"));
            }
            Long prompt = count(U + "promptTokenCount");
            if (prompt == null) {
                return;
            }
            Long candidates = count(U + "candidatesTokenCount");
            Long thoughts = count(U + "thoughtsTokenCount");
            input = sum(prompt, count(U + "toolUsePromptTokenCount"));
            output = sum(0L, candidates, thoughts);
            cached = count(U + "cachedContentTokenCount");
            reasoning = thoughts;
            if (has("candidates.finishReason") || has("promptFeedback.blockReason")) {
                complete = true;
            }
        }
    }
}
